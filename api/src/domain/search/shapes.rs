//! Service-area shapes, each held once however many services share it: a council's
//! services commonly share its boundary, so a search tests each distinct shape once
//! rather than once per service (measured: thousands of town-wide phone services
//! made debt-advice searches 8x slower than the rest at a million services).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use geo::{CoordsIter, MultiPolygon};

#[derive(Default)]
pub struct Shapes {
    /// Each shape with how many service areas use it; emptied when none do.
    shapes: Vec<(MultiPolygon<f64>, u32)>,
    by_hash: HashMap<u64, Vec<u32>>,
}

fn hash_of(shape: &MultiPolygon<f64>) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for c in shape.coords_iter() {
        (c.x.to_bits(), c.y.to_bits()).hash(&mut hasher);
    }
    hasher.finish()
}

impl Shapes {
    /// The id of this shape, held once; each call counts one more user.
    pub fn add(&mut self, shape: &MultiPolygon<f64>) -> u32 {
        if let Some(id) = self.find(shape) {
            self.shapes[id as usize].1 += 1;
            return id;
        }
        let id = self.shapes.len() as u32;
        self.shapes.push((shape.clone(), 1));
        self.by_hash.entry(hash_of(shape)).or_default().push(id);
        id
    }

    pub fn find(&self, shape: &MultiPolygon<f64>) -> Option<u32> {
        self.by_hash
            .get(&hash_of(shape))?
            .iter()
            .copied()
            .find(|&id| self.shapes[id as usize].0 == *shape)
    }

    /// One user fewer; a shape nobody uses is dropped (its id is not reused).
    pub fn release(&mut self, id: u32) {
        let Some((shape, users)) = self.shapes.get_mut(id as usize) else {
            return;
        };
        *users = users.saturating_sub(1);
        if *users == 0 {
            let hash = hash_of(shape);
            *shape = MultiPolygon::new(vec![]);
            if let Some(ids) = self.by_hash.get_mut(&hash) {
                ids.retain(|&other| other != id);
            }
        }
    }

    pub fn get(&self, id: u32) -> Option<&MultiPolygon<f64>> {
        self.shapes.get(id as usize).map(|(shape, _)| shape)
    }

    #[cfg(test)]
    fn held(&self) -> usize {
        self.shapes.iter().filter(|(_, users)| *users > 0).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn a_shared_shape_is_held_once_until_its_last_user_goes() {
        let square = |x: f64| {
            MultiPolygon::new(vec![polygon![
                (x: x, y: 0.0), (x: x + 1.0, y: 0.0), (x: x + 1.0, y: 1.0), (x: x, y: 0.0)
            ]])
        };
        let mut shapes = Shapes::default();
        let a = shapes.add(&square(0.0));
        assert_eq!(shapes.add(&square(0.0)), a);
        let b = shapes.add(&square(5.0));
        assert_ne!(a, b);
        assert_eq!(shapes.held(), 2);
        shapes.release(a);
        assert_eq!(shapes.find(&square(0.0)), Some(a), "one user left");
        shapes.release(a);
        assert_eq!(shapes.find(&square(0.0)), None);
        assert_eq!(shapes.held(), 1);
        assert_ne!(shapes.add(&square(0.0)), a, "ids are not reused");
    }
}
