//! Random but realistic identities for synthetic ID cards: common surnames and given-name
//! characters, real division codes with their place names, valid check characters.

use chrono::{Datelike, NaiveDate};
use rand::seq::SliceRandom;
use rand::Rng;

use crate::filing::division::Divisions;
use crate::filing::id_number::check_character;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "萧", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "欧阳", "司马", "诸葛",
];
const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅文辉鑫宇浩然子涵欣怡雨轩梓萱思远嘉怡晨阳佳琪俊杰婷婷博文一诺依琳瑾瑜翊翀琰蕙妍";
const ETHNICITIES: &[&str] = &[
    "汉",
    "汉",
    "汉",
    "汉",
    "汉",
    "汉",
    "壮",
    "回",
    "满",
    "维吾尔",
    "苗",
    "彝",
    "土家",
    "藏",
    "蒙古",
];
const STREETS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设街",
    "和平里",
    "新华街",
    "长江路",
    "黄河大道",
    "文化路",
    "光明街",
    "胜利路",
    "朝阳大街",
];

#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub male: bool,
    pub ethnicity: String,
    pub birth: NaiveDate,
    pub address: String,
    pub id_number: String,
    pub authority: String,
    pub valid_from: NaiveDate,
    /// None for 长期 (long-term).
    pub valid_until: Option<NaiveDate>,
}

impl Identity {
    pub fn random(rng: &mut impl Rng) -> Identity {
        let divisions = Divisions::embedded();
        let counties = divisions.county_codes();
        let region = counties[rng.gen_range(0..counties.len())];
        let place = divisions.place_name(region).unwrap_or_default();
        let surname = SURNAMES.choose(rng).copied().unwrap_or("王");
        let given: Vec<char> = GIVEN.chars().collect();
        let given_len = if rng.gen_bool(0.7) { 2 } else { 1 };
        let name: String = std::iter::once(surname.to_string())
            .chain((0..given_len).map(|_| given[rng.gen_range(0..given.len())].to_string()))
            .collect();
        let birth = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default()
            + chrono::Duration::days(rng.gen_range(0..20_000));
        let male = rng.gen_bool(0.5);
        let seq = rng.gen_range(0..500) * 2 + u32::from(male);
        let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
        let id_number = format!("{first17}{}", check_character(first17.as_bytes()));
        let street = format!(
            "{place}{}{}号",
            STREETS.choose(rng).copied().unwrap_or("人民路"),
            rng.gen_range(1..300),
        );
        let unit = format!("{}单元{}室", rng.gen_range(1..6), rng.gen_range(101..2800));
        // The card has three lines of eleven characters for the address; a long place name
        // leaves the flat number out, as real addresses then do.
        let address = if street.chars().count() + unit.chars().count() <= 33 {
            street + &unit
        } else {
            street
        };
        let issued_year = rng.gen_range(2010..2026);
        let valid_from =
            NaiveDate::from_ymd_opt(issued_year, rng.gen_range(1..=12), rng.gen_range(1..=28))
                .unwrap_or_default();
        let age_at_issue = issued_year - birth.year();
        let valid_until = match age_at_issue {
            a if a < 16 => valid_from.with_year(issued_year + 5),
            a if a < 26 => valid_from.with_year(issued_year + 10),
            a if a < 46 => valid_from.with_year(issued_year + 20),
            _ => None,
        };
        Identity {
            name,
            male,
            ethnicity: ETHNICITIES.choose(rng).copied().unwrap_or("汉").to_string(),
            birth,
            address,
            id_number,
            authority: authority(divisions, region),
            valid_from,
            valid_until,
        }
    }
}

/// The police office that issues cards in a county: 某县公安局, or for a city district
/// 某市公安局某分局.
fn authority(divisions: &Divisions, region: &str) -> String {
    match divisions.names(region) {
        Some((province, city, Some(area))) => match area.strip_suffix('区') {
            Some(stem) if !stem.is_empty() => {
                format!("{}公安局{stem}分局", city.unwrap_or(province))
            }
            _ => format!("{area}公安局"),
        },
        Some((province, _, None)) => format!("{province}公安厅"),
        None => "公安局".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn random_identities_have_valid_numbers_matching_their_birth_and_sex() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let id = Identity::random(&mut rng);
            let parsed = crate::filing::id_number::ResidentId::parse(
                &id.id_number,
                Divisions::embedded(),
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", id.id_number));
            assert_eq!(parsed.birth_date(), id.birth);
            assert_eq!(parsed.is_male(), id.male);
        }
    }
}
