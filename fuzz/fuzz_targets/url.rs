//! The URL reader on arbitrary text: never panics, the plain URLs' fast path
//! gives exactly what the full reading gives, and a URL it accepts is read
//! the same way again from its own canonical form (one reading, stable),
//! with a host that is never empty and has no empty label.
#![no_main]
use gait_run::normalize::{normalize_url, read_url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let read = normalize_url(text);
    let owned = read
        .clone()
        .map(|(u, (h, c))| (u.into_owned(), (h.into_owned(), c)));
    assert_eq!(owned, read_url(text), "{text:?}");
    if let Ok((canonical, (host, class))) = read {
        assert!(!host.is_empty());
        assert!(!host.split('.').any(str::is_empty) || host.contains(':'), "{host:?}");
        let again = normalize_url(&canonical).expect("the canonical form is accepted");
        assert_eq!(again.1, (host, class), "{text:?} → {canonical:?}");
    }
});
