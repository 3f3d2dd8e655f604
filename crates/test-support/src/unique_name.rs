//! Names no other test uses, for per-test databases and schemas. A leaf module, so the
//! emulator and PostgreSQL harnesses can use it without depending on the crate root that
//! re-exports them.

/// A name that no other test (or earlier run) uses: `PREFIX_<12 hex digits>`, upper case.
pub fn unique_name(prefix: &str) -> String {
    let cleaned: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{cleaned}_{}", &suffix[..12]).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_differ_and_are_identifiers() {
        let a = unique_name("queue test");
        let b = unique_name("queue test");
        assert_ne!(a, b);
        assert!(a.starts_with("QUEUE_TEST_"), "{a}");
        assert!(
            a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{a}"
        );
    }
}
