//! Text normalisation shared by the parsers: people type full-width digits on Chinese
//! keyboards, and OCR reads them too, so every comparison goes through the same folding.

/// Folds full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space to their ASCII
/// counterparts and trims the ends.
pub fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The middle dot of minority and transliterated names, however it was typed or read
/// (•, ・, full-width or ASCII full stop): the ID card prints ·.
pub fn fold_middle_dot(c: char) -> char {
    if matches!(c, '•' | '・' | '．' | '.') {
        '·'
    } else {
        c
    }
}

/// `fold_width`, then drops every space and the dashes people put between digit groups.
pub fn compact(s: &str) -> String {
    fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// Han (CJK unified ideograph) characters, including extension A and the compatibility block
/// that rare name characters live in.
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{20000}'..='\u{2EBEF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{30000}'..='\u{3134F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_digits_and_letters() {
        assert_eq!(fold_width("　１１０１０１ｘ "), "110101x");
        assert_eq!(compact("138 0013-8000"), "13800138000");
    }

    #[test]
    fn han_covers_common_and_rare_name_characters() {
        assert!("张三䶮𠮷".chars().all(is_han));
        assert!(!"Zhang3·".chars().any(is_han));
    }
}
