//! GB/T 2260 administrative division codes (NBS data as of 2023-06-30, via npm
//! `china-division` 2.7.0; see rules/SOURCES.md), embedded in the binary.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

const PROVINCES_CSV: &str = include_str!("../../rules/divisions/provinces.csv");
const CITIES_CSV: &str = include_str!("../../rules/divisions/cities.csv");
const AREAS_CSV: &str = include_str!("../../rules/divisions/areas.csv");

/// Division codes of Hong Kong, Macao and Taiwan residence permits (港澳台居民居住证).
pub const RESIDENCE_PERMIT_PREFIXES: [&str; 3] = ["81", "82", "83"];

/// Where a 6-digit region code stands in the current division list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionStatus {
    /// In the current list (counties, and prefecture-level cities without counties such as
    /// 东莞 441900, which the list carries as their own county).
    Current,
    /// The province exists but the county is not in the current list: most often a code of a
    /// county that was merged or renamed after the card was issued, which stays valid for life.
    ProvinceOnly,
    /// A Hong Kong, Macao or Taiwan residence permit (810000, 820000, 830000).
    ResidencePermit,
    Unknown,
}

pub struct Divisions {
    provinces: BTreeMap<String, String>,
    cities: HashMap<String, String>,
    areas: HashMap<String, String>,
}

impl Divisions {
    pub fn embedded() -> &'static Divisions {
        static DIVISIONS: OnceLock<Divisions> = OnceLock::new();
        DIVISIONS.get_or_init(|| {
            Divisions::from_csv(PROVINCES_CSV, CITIES_CSV, AREAS_CSV)
                .expect("embedded division CSVs are well-formed (checked by tests)")
        })
    }

    fn from_csv(provinces: &str, cities: &str, areas: &str) -> Result<Self, csv::Error> {
        let mut out = Divisions {
            provinces: BTreeMap::new(),
            cities: HashMap::new(),
            areas: HashMap::new(),
        };
        for row in rows(provinces) {
            let row = row?;
            out.provinces.insert(row[0].to_string(), row[1].to_string());
        }
        for row in rows(cities) {
            let row = row?;
            out.cities.insert(row[0].to_string(), row[1].to_string());
        }
        for row in rows(areas) {
            let row = row?;
            out.areas.insert(row[0].to_string(), row[1].to_string());
        }
        Ok(out)
    }

    /// The 31 mainland provinces, by 2-digit code.
    pub fn provinces(&self) -> impl Iterator<Item = (&str, &str)> {
        self.provinces.iter().map(|(c, n)| (c.as_str(), n.as_str()))
    }

    pub fn province_name(&self, code2: &str) -> Option<&str> {
        self.provinces.get(code2).map(String::as_str)
    }

    pub fn region_status(&self, code6: &str) -> RegionStatus {
        if code6.len() != 6 || !code6.bytes().all(|b| b.is_ascii_digit()) {
            return RegionStatus::Unknown;
        }
        let code2 = &code6[..2];
        if RESIDENCE_PERMIT_PREFIXES.contains(&code2) && &code6[2..] == "0000" {
            return RegionStatus::ResidencePermit;
        }
        if self.areas.contains_key(code6) {
            return RegionStatus::Current;
        }
        if self.provinces.contains_key(code2) {
            RegionStatus::ProvinceOnly
        } else {
            RegionStatus::Unknown
        }
    }

    /// "北京市东城区" for 110101; as much of the name as the list knows.
    pub fn place_name(&self, code6: &str) -> Option<String> {
        let province = self.provinces.get(code6.get(..2)?)?;
        let mut name = province.clone();
        if let Some(city) = self.cities.get(code6.get(..4)?) {
            if city != "市辖区" && city != "县" {
                name.push_str(city);
            }
        }
        if let Some(area) = self.areas.get(code6) {
            name.push_str(area);
        }
        Some(name)
    }

    /// The names of a code's province, prefecture-level city (none for the districts of the
    /// four municipalities) and county.
    pub fn names(&self, code6: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
        let province = self.provinces.get(code6.get(..2)?)?;
        let city = self
            .cities
            .get(code6.get(..4)?)
            .map(String::as_str)
            .filter(|c| *c != "市辖区" && *c != "县");
        let area = self.areas.get(code6).map(String::as_str);
        Some((province, city, area))
    }

    /// Every place name an address can start with: provinces, their cities, their counties,
    /// as `place_name` writes them.
    pub fn place_names(&self) -> Vec<String> {
        let mut out: Vec<String> = self.provinces.values().cloned().collect();
        for code in self.cities.keys() {
            if let Some(name) = self.place_name(&format!("{code}00")) {
                out.push(name);
            }
        }
        out.extend(self.areas.keys().filter_map(|c| self.place_name(c)));
        out.sort();
        out.dedup();
        out
    }

    /// Every current county code, for generators and property tests.
    pub fn county_codes(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = self.areas.keys().map(String::as_str).collect();
        codes.sort_unstable();
        codes
    }
}

fn rows(text: &str) -> impl Iterator<Item = Result<csv::StringRecord, csv::Error>> + '_ {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes())
        .into_records()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_lists_have_the_expected_sizes() {
        let d = Divisions::embedded();
        assert_eq!(d.provinces().count(), 31);
        assert!(d.areas.len() > 2900, "{}", d.areas.len());
        assert!(d.cities.len() > 340);
    }

    #[test]
    fn region_status_covers_each_case() {
        let d = Divisions::embedded();
        assert_eq!(d.region_status("110101"), RegionStatus::Current);
        assert_eq!(
            d.region_status("441900"),
            RegionStatus::Current,
            "东莞 has no counties"
        );
        assert_eq!(
            d.region_status("440524"),
            RegionStatus::ProvinceOnly,
            "former 潮阳县"
        );
        assert_eq!(d.region_status("810000"), RegionStatus::ResidencePermit);
        assert_eq!(d.region_status("990101"), RegionStatus::Unknown);
        assert_eq!(d.region_status("11010"), RegionStatus::Unknown);
    }

    #[test]
    fn place_names_skip_placeholder_city_names() {
        let d = Divisions::embedded();
        assert_eq!(d.place_name("110101").as_deref(), Some("北京市东城区"));
        assert_eq!(
            d.place_name("130102").as_deref(),
            Some("河北省石家庄市长安区")
        );
    }
}
