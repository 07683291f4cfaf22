//! A tiny AES-128-CBC with PKCS#7 padding (FIPS-197, SP 800-38A), for tests only: it makes
//! encrypted segments and is the in-memory fetcher's decryption. Slow and not constant-time,
//! which tests do not mind; the worker decrypts with WebCrypto.

/// S-box, inverse S-box and products by the MixColumns constants (index `c` multiplies by
/// `c`), computed once from the field arithmetic rather than typed in.
struct Tables {
    sbox: [u8; 256],
    inv: [u8; 256],
    times: [[u8; 256]; 15],
}

fn tables() -> &'static Tables {
    static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let (sbox, inv) = sboxes();
        let mut times = [[0u8; 256]; 15];
        for (c, row) in times.iter_mut().enumerate() {
            for (a, out) in row.iter_mut().enumerate() {
                *out = mul(a as u8, c as u8);
            }
        }
        Tables { sbox, inv, times }
    })
}

fn sboxes() -> ([u8; 256], [u8; 256]) {
    let mut sbox = [0u8; 256];
    let (mut p, mut q) = (1u8, 1u8);
    loop {
        p = p ^ (p << 1) ^ if p & 0x80 != 0 { 0x1b } else { 0 };
        q ^= q << 1;
        q ^= q << 2;
        q ^= q << 4;
        if q & 0x80 != 0 {
            q ^= 0x09;
        }
        let x = q ^ q.rotate_left(1) ^ q.rotate_left(2) ^ q.rotate_left(3) ^ q.rotate_left(4);
        sbox[p as usize] = x ^ 0x63;
        if p == 1 {
            break;
        }
    }
    sbox[0] = 0x63;
    let mut inv = [0u8; 256];
    for (i, s) in sbox.iter().enumerate() {
        inv[*s as usize] = i as u8;
    }
    (sbox, inv)
}

fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut out = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            out ^= a;
        }
        a = (a << 1) ^ if a & 0x80 != 0 { 0x1b } else { 0 };
        b >>= 1;
    }
    out
}

/// The 11 round keys of a 128-bit key.
fn round_keys(key: &[u8; 16], sbox: &[u8; 256]) -> [[u8; 16]; 11] {
    let mut w = [[0u8; 4]; 44];
    for (i, word) in w.iter_mut().take(4).enumerate() {
        word.copy_from_slice(&key[4 * i..4 * i + 4]);
    }
    let mut rcon = 1u8;
    for i in 4..44 {
        let mut t = w[i - 1];
        if i % 4 == 0 {
            t = [
                sbox[t[1] as usize] ^ rcon,
                sbox[t[2] as usize],
                sbox[t[3] as usize],
                sbox[t[0] as usize],
            ];
            rcon = mul(rcon, 2);
        }
        for k in 0..4 {
            w[i][k] = w[i - 4][k] ^ t[k];
        }
    }
    let mut out = [[0u8; 16]; 11];
    for (r, rk) in out.iter_mut().enumerate() {
        for c in 0..4 {
            rk[4 * c..4 * c + 4].copy_from_slice(&w[4 * r + c]);
        }
    }
    out
}

fn add(state: &mut [u8; 16], rk: &[u8; 16]) {
    for (s, k) in state.iter_mut().zip(rk) {
        *s ^= k;
    }
}

/// Rotates row `r` of the column-major state left by `r * dir` (dir 1 or 3).
fn shift_rows(state: &mut [u8; 16], dir: usize) {
    let old = *state;
    for r in 1..4 {
        for c in 0..4 {
            state[r + 4 * c] = old[r + 4 * ((c + r * dir) % 4)];
        }
    }
}

fn mix(state: &mut [u8; 16], m: [usize; 4]) {
    let times = &tables().times;
    for c in 0..4 {
        let a: [u8; 4] = state[4 * c..4 * c + 4].try_into().unwrap();
        for r in 0..4 {
            state[4 * c + r] =
                (0..4).fold(0, |acc, k| acc ^ times[m[(k + 4 - r) % 4]][a[k] as usize]);
        }
    }
}

fn encrypt_block(block: &mut [u8; 16], rk: &[[u8; 16]; 11], sbox: &[u8; 256]) {
    add(block, &rk[0]);
    for (round, key) in rk.iter().enumerate().skip(1) {
        block.iter_mut().for_each(|b| *b = sbox[*b as usize]);
        shift_rows(block, 1);
        if round < 10 {
            mix(block, [2, 3, 1, 1]);
        }
        add(block, key);
    }
}

fn decrypt_block(block: &mut [u8; 16], rk: &[[u8; 16]; 11], inv: &[u8; 256]) {
    add(block, &rk[10]);
    for round in (0..10).rev() {
        shift_rows(block, 3);
        block.iter_mut().for_each(|b| *b = inv[*b as usize]);
        add(block, &rk[round]);
        if round > 0 {
            mix(block, [14, 11, 13, 9]);
        }
    }
}

/// AES-128-CBC encryption with PKCS#7 padding.
pub fn encrypt(key: &[u8; 16], iv: &[u8; 16], clear: &[u8]) -> Vec<u8> {
    let sbox = tables().sbox;
    let rk = round_keys(key, &sbox);
    let pad = 16 - clear.len() % 16;
    let mut data = clear.to_vec();
    data.resize(clear.len() + pad, pad as u8);
    let mut prev = *iv;
    for chunk in data.chunks_exact_mut(16) {
        let mut block: [u8; 16] = chunk.try_into().unwrap();
        add(&mut block, &prev);
        encrypt_block(&mut block, &rk, &sbox);
        chunk.copy_from_slice(&block);
        prev = block;
    }
    data
}

/// AES-128-CBC decryption, checking and removing the PKCS#7 padding as WebCrypto does.
pub fn decrypt(key: &[u8; 16], iv: &[u8; 16], data: &[u8]) -> Result<Vec<u8>, String> {
    if data.is_empty() || !data.len().is_multiple_of(16) {
        return Err(format!(
            "{} bytes is not a whole number of blocks",
            data.len()
        ));
    }
    let Tables { sbox, inv, .. } = tables();
    let rk = round_keys(key, sbox);
    let mut out = Vec::with_capacity(data.len());
    let mut prev = *iv;
    for chunk in data.chunks_exact(16) {
        let cipher: [u8; 16] = chunk.try_into().unwrap();
        let mut block = cipher;
        decrypt_block(&mut block, &rk, inv);
        add(&mut block, &prev);
        out.extend_from_slice(&block);
        prev = cipher;
    }
    let pad = usize::from(*out.last().unwrap_or(&0));
    let valid =
        (1..=16).contains(&pad) && out[out.len() - pad..].iter().all(|b| *b as usize == pad);
    if !valid {
        return Err("bad padding".into());
    }
    out.truncate(out.len() - pad);
    Ok(out)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Checks the cipher against FIPS-197 appendix C.1 and a CBC vector made with node's
/// `crypto.createCipheriv('aes-128-cbc', …)`, so the tests that use it test the engine.
pub fn self_check() {
    let Tables { sbox, inv, .. } = tables();
    let key: [u8; 16] = hex("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
    let rk = round_keys(&key, sbox);
    let mut block: [u8; 16] = hex("00112233445566778899aabbccddeeff").try_into().unwrap();
    encrypt_block(&mut block, &rk, sbox);
    assert_eq!(block.to_vec(), hex("69c4e0d86a7b0430d8cdb78070b4c55a"));
    decrypt_block(&mut block, &rk, inv);
    assert_eq!(block.to_vec(), hex("00112233445566778899aabbccddeeff"));
    let iv: [u8; 16] = hex("0f0e0d0c0b0a09080706050403020100").try_into().unwrap();
    let node = hex("02e2d024b78b754a8c304e39ecbe52f197903d682d2198d6b9cdae60d37cf08d");
    assert_eq!(encrypt(&key, &iv, b"offline manager segment"), node);
    assert_eq!(
        decrypt(&key, &iv, &node).unwrap(),
        b"offline manager segment"
    );
}
