//! All geodesy lives here: one place turns latitude/longitude into `geo` points,
//! distances are geodesic metres, and GeoJSON polygons are parsed and checked.

use geo::{Contains, Distance, Geodesic, Haversine, MultiPolygon, Point};

/// WGS84 coordinates, validated on construction.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}

/// Why coordinates were refused, naming which half was wrong.
#[derive(Debug, PartialEq)]
pub enum CoordinateError {
    Latitude(f64),
    Longitude(f64),
}

impl Coordinates {
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, CoordinateError> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err(CoordinateError::Latitude(latitude));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err(CoordinateError::Longitude(longitude));
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }

    pub fn point(self) -> Point<f64> {
        Point::new(self.longitude, self.latitude)
    }

    /// Geodesic (WGS84 ellipsoid) distance in metres.
    pub fn distance_metres(self, other: Coordinates) -> f64 {
        Geodesic.distance(self.point(), other.point())
    }

    /// A cheap estimate of `distance_metres` (great circle on the mean sphere),
    /// within `ROUGH_ERROR` of it: search ranks thousands of candidates by this and
    /// computes the exact distance only for those the answer depends on.
    pub fn rough_metres(self, other: Coordinates) -> f64 {
        Haversine.distance(self.point(), other.point())
    }
}

/// The mean sphere's radius `Haversine` measures with (GRS80).
pub const MEAN_RADIUS: f64 = Haversine.radius();

/// The most a great-circle distance on the mean sphere differs from the WGS84
/// geodesic, as a fraction (the ellipsoid's radii of curvature lie within -0.6% and
/// +0.5% of the mean radius); a margin above that.
pub const ROUGH_ERROR: f64 = 0.0075;

/// Parse GeoJSON text (a geometry, a Feature or a FeatureCollection) into one
/// multipolygon, refusing anything that is not a polygon or lies outside WGS84 ranges.
pub fn parse_polygons(text: &str) -> Result<MultiPolygon<f64>, String> {
    let geojson: geojson::GeoJson = text.parse().map_err(|e| format!("not GeoJSON: {e}"))?;
    let geometries: Vec<geojson::Geometry> = match geojson {
        geojson::GeoJson::Geometry(g) => vec![g],
        geojson::GeoJson::Feature(f) => f.geometry.into_iter().collect(),
        geojson::GeoJson::FeatureCollection(fc) => {
            fc.features.into_iter().filter_map(|f| f.geometry).collect()
        }
    };
    let mut polygons = Vec::new();
    for geometry in geometries {
        let shape: geo::Geometry<f64> = geometry
            .try_into()
            .map_err(|e| format!("not a geometry: {e}"))?;
        match shape {
            geo::Geometry::Polygon(p) => polygons.push(p),
            geo::Geometry::MultiPolygon(mp) => polygons.extend(mp.0),
            other => {
                return Err(format!(
                    "expected Polygon or MultiPolygon, got {}",
                    kind(&other)
                ));
            }
        }
    }
    if polygons.is_empty() {
        return Err("no polygon in GeoJSON".into());
    }
    let shape = MultiPolygon(polygons);
    for coord in geo::CoordsIter::coords_iter(&shape) {
        Coordinates::new(coord.y, coord.x).map_err(|_| {
            format!(
                "coordinate ({}, {}) is outside WGS84 ranges",
                coord.x, coord.y
            )
        })?;
    }
    Ok(shape)
}

fn kind(geometry: &geo::Geometry<f64>) -> &'static str {
    match geometry {
        geo::Geometry::Point(_) => "Point",
        geo::Geometry::Line(_) | geo::Geometry::LineString(_) => "LineString",
        geo::Geometry::MultiPoint(_) => "MultiPoint",
        geo::Geometry::MultiLineString(_) => "MultiLineString",
        _ => "another geometry",
    }
}

/// Whether a multipolygon contains a point.
pub fn contains(shape: &MultiPolygon<f64>, at: Coordinates) -> bool {
    shape.contains(&at.point())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latitude_outside_range_is_refused_naming_latitude() {
        assert_eq!(
            Coordinates::new(100.0, 1.0),
            Err(CoordinateError::Latitude(100.0))
        );
        assert_eq!(
            Coordinates::new(1.0, 181.0),
            Err(CoordinateError::Longitude(181.0))
        );
        assert!(Coordinates::new(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn distance_between_manchester_and_london_is_about_262_km() {
        let manchester = Coordinates::new(53.4808, -2.2426).unwrap_or_else(|_| unreachable!());
        let london = Coordinates::new(51.5074, -0.1278).unwrap_or_else(|_| unreachable!());
        let km = manchester.distance_metres(london) / 1000.0;
        assert!((km - 262.0).abs() < 3.0, "{km}");
    }

    #[test]
    fn rough_distance_stays_within_its_stated_error_everywhere() {
        // Short and long hops in every direction, equator to pole.
        let mut worst: f64 = 0.0;
        for lat in (-85..=85).step_by(5) {
            for bearing in 0..16 {
                let angle = f64::from(bearing) * std::f64::consts::PI / 8.0;
                for km in [0.05, 1.0, 5.0, 100.0, 1000.0] {
                    let a =
                        Coordinates::new(f64::from(lat), 10.0).unwrap_or_else(|_| unreachable!());
                    let dlat = km / 111.0 * angle.cos();
                    let dlon = km / 111.0 * angle.sin() / f64::from(lat).to_radians().cos();
                    let Ok(b) = Coordinates::new(a.latitude + dlat, a.longitude + dlon) else {
                        continue;
                    };
                    let exact = a.distance_metres(b);
                    worst = worst.max((a.rough_metres(b) - exact).abs() / exact);
                }
            }
        }
        assert!(worst < ROUGH_ERROR, "{worst}");
        assert!(
            worst > 0.004,
            "the margin is not far above the real error: {worst}"
        );
    }

    #[test]
    fn polygon_text_parses_and_contains_its_inside() {
        let square = r#"{"type":"Polygon","coordinates":[[[-2.3,53.4],[-2.2,53.4],[-2.2,53.5],[-2.3,53.5],[-2.3,53.4]]]}"#;
        let shape = parse_polygons(square).unwrap_or_else(|e| panic!("{e}"));
        let inside = Coordinates::new(53.45, -2.25).unwrap_or_else(|_| unreachable!());
        let outside = Coordinates::new(53.6, -2.25).unwrap_or_else(|_| unreachable!());
        assert!(contains(&shape, inside));
        assert!(!contains(&shape, outside));
    }

    #[test]
    fn non_polygon_and_garbage_are_refused() {
        assert!(parse_polygons(r#"{"type":"Point","coordinates":[0,0]}"#).is_err());
        assert!(parse_polygons("extent").is_err());
        assert!(
            parse_polygons(r#"{"type":"Polygon","coordinates":[[[0,100],[1,0],[1,1],[0,100]]]}"#)
                .is_err()
        );
    }
}
