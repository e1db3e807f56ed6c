//! Named, reproducible random streams.
//!
//! Each source of randomness in a model (arrivals, service times, failures, ...) gets its own
//! generator, derived from `(seed, replication, name)`. Adding a new stream, or drawing more
//! from one stream, leaves every other stream's numbers unchanged, so a change in one part of a
//! model does not reshuffle the randomness of the rest (common random numbers across variants).
//!
//! Generators are created here and passed to the model that owns them; there is no global or
//! thread-local generator anywhere in the simulator.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// Domain-separation prefix of the key derivation. Changing it (or the encoding below) changes
/// every stream; bump the version suffix if that is ever intended.
const DOMAIN: &[u8] = b"capsim/engine/random/stream/v1";

/// The 32-byte ChaCha key for `(seed, replication, name)`.
///
/// Key = SHA-256 of the concatenation
///
/// | bytes          | content                                         |
/// |----------------|-------------------------------------------------|
/// | 30             | ASCII `capsim/engine/random/stream/v1`          |
/// | 8              | `seed`, unsigned 64-bit little-endian           |
/// | 8              | `replication`, unsigned 64-bit little-endian    |
/// | 8              | byte length of `name`, unsigned 64-bit LE       |
/// | len(name)      | `name` as UTF-8                                 |
///
/// Fixed-width little-endian integers make the encoding identical on every platform, and it
/// does not go through any `Hash` implementation (whose output Rust does not promise to keep
/// stable). The length prefix keeps the encoding unambiguous.
pub fn stream_key(seed: u64, replication: u64, name: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update(seed.to_le_bytes());
    hasher.update(replication.to_le_bytes());
    // usize -> u64 is lossless on every platform Rust supports.
    hasher.update((name.len() as u64).to_le_bytes());
    hasher.update(name.as_bytes());
    hasher.finalize().into()
}

/// The random stream `name` of replication `replication` of a run seeded with `seed`: a ChaCha8
/// generator keyed by [`stream_key`].
///
/// The same triple always yields the same sequence, on every platform; any change to the triple
/// yields an unrelated sequence.
///
/// ```
/// use capsim_engine::random::stream;
/// use rand::RngExt;
///
/// let mut arrivals = stream(42, 0, "arrivals");
/// let u: f64 = arrivals.random(); // uniform on [0, 1)
/// assert!((0.0..1.0).contains(&u));
/// ```
pub fn stream(seed: u64, replication: u64, name: &str) -> ChaCha8Rng {
    ChaCha8Rng::from_seed(stream_key(seed, replication, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn first_draws(seed: u64, replication: u64, name: &str) -> [u64; 4] {
        let mut rng = stream(seed, replication, name);
        std::array::from_fn(|_| rng.next_u64())
    }

    #[test]
    fn same_triple_same_draws() {
        assert_eq!(first_draws(7, 3, "arrivals"), first_draws(7, 3, "arrivals"));
    }

    #[test]
    fn any_change_gives_a_different_stream() {
        let base = first_draws(7, 3, "arrivals");
        assert_ne!(base, first_draws(7, 3, "service"));
        assert_ne!(base, first_draws(8, 3, "arrivals"));
        assert_ne!(base, first_draws(7, 4, "arrivals"));
        assert_ne!(base, first_draws(7, 3, "arrival"));
        assert_ne!(base, first_draws(7, 3, ""));
        // Seed and replication are separate fields, not summed or swapped.
        assert_ne!(first_draws(1, 2, "x"), first_draws(2, 1, "x"));
    }

    #[test]
    fn derivation_is_pinned() {
        // Regression guard: if this fails, the key derivation (or the ChaCha8 implementation)
        // changed and every seeded result in the project changes with it. Only update these
        // values deliberately, together with the DOMAIN version.
        assert_eq!(
            stream_key(1, 0, "arrivals")[..4],
            PINNED_KEY_PREFIX,
            "stream_key derivation changed"
        );
        assert_eq!(
            stream(1, 0, "arrivals").next_u64(),
            PINNED_FIRST_U64,
            "first draw changed"
        );
    }

    const PINNED_KEY_PREFIX: [u8; 4] = [224, 226, 120, 242];
    const PINNED_FIRST_U64: u64 = 3_930_653_861_257_769_538;
}
