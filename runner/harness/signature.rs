//! The HMAC-SHA256 signature of the `sign` option of request steps, hex
//! encoded as webhook senders put it in a header (`hmac` + `sha2`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `msg` under `key`, as lowercase hex.
pub(crate) fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> String {
    // An HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(msg);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_rfc4231_vectors_in_lowercase_hex() {
        // Test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hmac_sha256_hex(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
