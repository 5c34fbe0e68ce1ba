//! Licensing: the WEMWBS / SWEMWBS item wording (copyright of its owners) must not be in the
//! repository or in the `ensemble` binary. Ensemble ships their scoring only; licensed
//! organisations upload the wording as an overlay.
//!
//! The wording is not written here either: the test holds the SHA-256 of each item's
//! normalised text (lower case, letters only, single spaces) with its word count, and looks
//! for any run of that many words with the same hash. Every item begins "I've", so only
//! runs starting with the words "i ve" are hashed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sha2::{Digest, Sha256};

/// (words, sha256 of the normalised item) for the 14 WEMWBS items (the 7 SWEMWBS items are
/// among them).
const LICENSED: &[(usize, &str)] = &[
    (
        8,
        "d95bac35e9072d8c5b23c02c4c9ad0de5cadb04e7f4c132ec37e6533e4f16657",
    ),
    (
        5,
        "59eab4f04736790534b4eab2e4f32d867b3ac7268031de798f6c83e9931bceb8",
    ),
    (
        5,
        "eccdc7c03de1810431acbad3246ab29a0fbee2be34c1095a1ea5ab9fd48ebfdf",
    ),
    (
        8,
        "4f4fb1cb86a652bdee1992477a5c0d71e1aad8c26510ec91eea2171c7da4d31e",
    ),
    (
        6,
        "8950fcd92633ff5f350e99dd6d08a3359a198be5e5dcf1494bf8e04a8ee750ea",
    ),
    (
        7,
        "47cd71ce41c5cd0905fcc5bbf56527189178aa11e69ab765f2a66dea88f5662b",
    ),
    (
        5,
        "45f033cd4112f472f221688fdd101a5014cd3462cc62999134d9b7f988178743",
    ),
    (
        7,
        "171fdb096c6bad138ae92a448942f2fa643e5171ddae6e96a7a0363e2f8e0ad1",
    ),
    (
        8,
        "2d3193edce7a2bc7956a199a28581bfd21abc4b4fd953014f38caebf835f7944",
    ),
    (
        5,
        "0dd8ac801a7c87178c00c12cebc916fab42da30ba3fe94a40d609ad0971eb0d8",
    ),
    (
        12,
        "7146d2fabe2e57a1822d7f2c950b2b658a277932c62b56f7cd6ff026bb917dd1",
    ),
    (
        5,
        "10418774d253dda79f28723179cb98efd06feaa90338c6be9690279d74b0da88",
    ),
    (
        7,
        "79664ac526a8015f182a627c8e74d22bbfc44ae115ef1c3a662bcb5d9464284e",
    ),
    (
        5,
        "3cfae7fe92de78b9e2ce3f156b11d88db575edb812c73750d36cdd518684fc5c",
    ),
];

fn words(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for &b in bytes {
        if b.is_ascii_alphabetic() {
            current.push(b.to_ascii_lowercase() as char);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Hashes of every run of `k` words starting "i ve", for each k in `lengths`.
fn found(bytes: &[u8], targets: &[(usize, String)]) -> Vec<String> {
    let w = words(bytes);
    let mut hits = Vec::new();
    for i in 0..w.len() {
        if w[i] != "i" || w.get(i + 1).map(String::as_str) != Some("ve") {
            continue;
        }
        for (k, hash) in targets {
            if i + k <= w.len() {
                let run = w[i..i + k].join(" ");
                if hex::encode(Sha256::digest(run.as_bytes())) == *hash {
                    hits.push(hash.clone());
                }
            }
        }
    }
    hits
}

fn targets() -> Vec<(usize, String)> {
    LICENSED
        .iter()
        .map(|(k, h)| (*k, (*h).to_string()))
        .collect()
}

#[test]
fn the_detector_finds_a_phrase_by_its_hash() {
    // A made-up sentence in the same shape, to show the search would catch one.
    let phrase = "i ve been practising the cello";
    let target = vec![(6, hex::encode(Sha256::digest(phrase.as_bytes())))];
    let text = b"Notes: \"I've been practising the cello!\" she said.";
    assert_eq!(found(text, &target).len(), 1);
    assert!(found(b"I have been practising the cello", &target).is_empty());
}

fn repository_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | "node_modules" | ".git") {
                repository_files(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_licensed_item_wording_is_in_the_repository_or_the_binary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    repository_files(&root, &mut files);
    assert!(files.len() > 50, "walked {} files", files.len());
    let t = targets();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let hits = found(&bytes, &t);
        assert!(
            hits.is_empty(),
            "{} contains licensed item wording",
            f.display()
        );
    }
    let binary = std::fs::read(env!("CARGO_BIN_EXE_ensemble")).unwrap();
    assert!(binary.len() > 1_000_000);
    assert!(
        found(&binary, &t).is_empty(),
        "the ensemble binary contains licensed item wording"
    );
}
