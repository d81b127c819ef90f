//! QWERTY key neighbours, for keyboard slips.

/// Keys that touch each lower-case letter on a US QWERTY keyboard.
const NEIGHBOURS: [&str; 26] = [
    "qwsz",   // a
    "vghn",   // b
    "xdfv",   // c
    "erfcxs", // d
    "wsdr",   // e
    "rtgvcd", // f
    "tyhbvf", // g
    "yujnbg", // h
    "ujko",   // i
    "uikmnh", // j
    "iolmj",  // k
    "opk",    // l
    "njk",    // m
    "bhjm",   // n
    "iklp",   // o
    "ol",     // p
    "wa",     // q
    "edft",   // r
    "wedxza", // s
    "rfgy",   // t
    "yhji",   // u
    "cfgb",   // v
    "qase",   // w
    "zsdc",   // x
    "tghu",   // y
    "asx",    // z
];

/// The neighbours of an ASCII letter, lower-case, or `None` for other chars.
pub fn neighbours(c: char) -> Option<&'static [u8]> {
    let lower = c.to_ascii_lowercase();
    lower
        .is_ascii_lowercase()
        .then(|| NEIGHBOURS[(lower as u8 - b'a') as usize].as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbourhood_is_symmetric() {
        for a in 'a'..='z' {
            for &b in neighbours(a).unwrap() {
                let back = neighbours(b as char).unwrap();
                assert!(
                    back.contains(&(a as u8)),
                    "{a} touches {} but not back",
                    b as char
                );
            }
        }
    }

    #[test]
    fn examples_from_the_spec() {
        assert!(neighbours('q').unwrap().contains(&b'w'));
        assert!(neighbours('A').unwrap().contains(&b's'));
        assert!(neighbours('e').unwrap().contains(&b'r'));
        assert_eq!(neighbours('é'), None);
    }
}
