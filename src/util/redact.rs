//! Secrets never leave the process: the values of secret storage options and credential
//! environment variables are registered here, and every report, log line and error message
//! passes through [`redact`] on its way out, which replaces them — and the values of URL
//! query parameters, where signatures and SAS tokens travel — with `***`.

use std::borrow::Cow;
use std::sync::RwLock;

/// Shorter values are not treated as secrets: replacing them would garble ordinary text.
const MIN_SECRET_LEN: usize = 6;

/// Environment variables whose values are secret: those of the object stores' credential
/// variables (the AWS, Azure, Google and Hugging Face prefixes) whose names say key, secret,
/// token, signature or credential.
const CREDENTIAL_PREFIXES: [&str; 6] =
    ["AWS_", "AZURE_", "GOOGLE_", "HF_", "HUGGING_FACE_", "GCS_"];

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds a value to those that are never shown.
pub fn register(secret: &str) {
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    if let Ok(mut secrets) = SECRETS.write()
        && !secrets.iter().any(|s| s == secret)
    {
        secrets.push(secret.to_string());
        // Longest first, so that a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Registers the secret values of the credential environment variables.
pub fn register_environment() {
    for (name, value) in std::env::vars() {
        if CREDENTIAL_PREFIXES.iter().any(|p| name.starts_with(p)) && is_secret_key(&name) {
            register(&value);
        }
    }
}

/// Keys whose values are secrets: any naming a key, secret, token, signature, password or
/// credential.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "key",
        "secret",
        "token",
        "sas",
        "sig",
        "password",
        "credential",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// `text` with every registered secret and every URL query value replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Ok(secrets) = SECRETS.read() {
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), "***"));
            }
        }
    }
    if out.contains("://") && out.contains('?') {
        out = Cow::Owned(redact_queries(&out));
    }
    out
}

/// Replaces the values of the query parameters of every URL in `text`.
fn redact_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        // The URL runs until whitespace or a quote.
        let end = rest[start..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '`')
            .map_or(rest.len(), |e| start + e);
        let url = &rest[..end];
        match url.split_once('?') {
            Some((base, query)) => {
                out.push_str(base);
                out.push('?');
                let (query, fragment) = match query.split_once('#') {
                    Some((q, f)) => (q, Some(f)),
                    None => (query, None),
                };
                let params: Vec<String> = query
                    .split('&')
                    .map(|p| match p.split_once('=') {
                        Some((k, _)) => format!("{k}=***"),
                        None => p.to_string(),
                    })
                    .collect();
                out.push_str(&params.join("&"));
                if let Some(f) = fragment {
                    out.push('#');
                    out.push_str(f);
                }
            }
            None => out.push_str(url),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A writer for the log that redacts each write before passing it on to stderr.
#[derive(Debug, Default, Clone, Copy)]
pub struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_and_query_values_are_replaced() {
        register("wJalrXUtnFEMI-redact-test");
        register("abc");
        assert_eq!(
            redact("key wJalrXUtnFEMI-redact-test failed; abc stays"),
            "key *** failed; abc stays"
        );
        assert_eq!(
            redact("GET https://a.blob.core.windows.net/c/f.parquet?sv=2024&sig=XYZ%3D (403)"),
            "GET https://a.blob.core.windows.net/c/f.parquet?sv=***&sig=*** (403)"
        );
        assert_eq!(redact("no urls? fine"), "no urls? fine");
        assert_eq!(
            redact("s3://b/k and http://h/p?x"),
            "s3://b/k and http://h/p?x"
        );
    }
}
