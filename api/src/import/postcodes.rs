//! Postcode files: the ONS Postcode Directory (`pcds`, `lat`, `long`, `doterm`,
//! `lsoa21`, ...) or a simple layout (`postcode`, `lat`, `lon`, area codes). Codes are
//! normalised, terminated postcodes and rows without coordinates are skipped, and rows
//! are written in batches (upserting by code, so a reload refreshes).

use std::io::Read;

use entity::postcode;
use sea_orm::ConnectionTrait;

use crate::domain::postcode::Postcode;
use crate::error::{AppError, AppResult};
use crate::spatial::Coordinates;

const BATCH: usize = 1000;

/// What a postcode load did.
#[derive(Debug, Default, PartialEq)]
pub struct PostcodeSummary {
    pub imported: u64,
    pub terminated: u64,
    pub without_coordinates: u64,
    pub invalid: u64,
}

impl std::fmt::Display for PostcodeSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "imported {} postcodes; skipped {} terminated, {} without coordinates, {} not valid postcodes",
            self.imported, self.terminated, self.without_coordinates, self.invalid
        )
    }
}

/// Column positions for one of the two layouts.
struct Layout {
    code: usize,
    latitude: usize,
    longitude: usize,
    terminated: Option<usize>,
    lsoa: Option<usize>,
    msoa: Option<usize>,
    ward: Option<usize>,
    local_authority: Option<usize>,
}

impl Layout {
    fn detect(headers: &csv::StringRecord) -> AppResult<Self> {
        let find = |names: &[&str]| {
            names.iter().find_map(|n| {
                headers
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(n))
            })
        };
        let need = |names: &[&str]| {
            find(names).ok_or_else(|| {
                AppError::bad_input(
                    "header",
                    format!(
                        "no column named {} in the postcode file",
                        names.join(" or ")
                    ),
                )
            })
        };
        Ok(Self {
            code: need(&["pcds", "postcode", "pcd", "pcd2"])?,
            latitude: need(&["lat", "latitude"])?,
            longitude: need(&["long", "lon", "longitude"])?,
            terminated: find(&["doterm"]),
            lsoa: find(&["lsoa21", "lsoa21cd", "lsoa_code", "lsoa11"]),
            msoa: find(&["msoa21", "msoa21cd", "msoa_code", "msoa11"]),
            ward: find(&["osward", "ward_code"]),
            local_authority: find(&["oslaua", "lad", "la_code", "lad_code"]),
        })
    }
}

/// Read and load a postcode CSV from any reader.
pub async fn import(db: &impl ConnectionTrait, input: impl Read) -> AppResult<PostcodeSummary> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| AppError::bad_input("file", format!("not CSV: {e}")))?
        .clone();
    let layout = Layout::detect(&headers)?;
    let mut summary = PostcodeSummary::default();
    let mut batch = Vec::with_capacity(BATCH);
    for (line, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| AppError::bad_input(format!("line {}", line + 2), e.to_string()))?;
        let field = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        if field(layout.terminated).is_some() {
            summary.terminated += 1;
            continue;
        }
        let Ok(code) = Postcode::parse(record.get(layout.code).unwrap_or_default()) else {
            summary.invalid += 1;
            continue;
        };
        let parse = |i: usize| record.get(i).and_then(|v| v.trim().parse::<f64>().ok());
        // ONSPD marks a postcode without a grid reference as 99.999999 / 0.
        let point = match (parse(layout.latitude), parse(layout.longitude)) {
            (Some(lat), Some(lon)) if lat < 90.0 => Coordinates::new(lat, lon).ok(),
            _ => None,
        };
        let Some(point) = point else {
            summary.without_coordinates += 1;
            continue;
        };
        batch.push(postcode::Model {
            code: code.to_string(),
            latitude: point.latitude,
            longitude: point.longitude,
            lsoa_code: field(layout.lsoa),
            msoa_code: field(layout.msoa),
            ward_code: field(layout.ward),
            local_authority_code: field(layout.local_authority),
        });
        if batch.len() == BATCH {
            summary.imported += write(db, std::mem::take(&mut batch)).await?;
        }
    }
    summary.imported += write(db, batch).await?;
    Ok(summary)
}

/// Upsert postcodes by code. Later rows with the same code win.
pub async fn write(db: &impl ConnectionTrait, mut rows: Vec<postcode::Model>) -> AppResult<u64> {
    // Later rows win: `upsert` keeps the first of repeated keys.
    rows.reverse();
    let count = rows.len() as u64;
    crate::db::upsert::<postcode::Entity>(db, &rows, &[]).await?;
    Ok(count)
}
