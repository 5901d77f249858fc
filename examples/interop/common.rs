//! What the two interop clients (`interop_client` on the engine alone,
//! `tokio_interop_client` on the tokio adapter) share: their arguments, the
//! messages they echo, and how a check is reported. Each includes this file
//! with `#[path]`.

/// The message sizes the interop run checks, in bytes.
pub const SIZES: [usize; 6] = [0, 125, 126, 65535, 65536, 1 << 20];
/// The ping's payload: binary, and not all printable.
pub const PING: &[u8] = b"ping \x00\x01\xfe\xff";
/// How long one step may wait for the peer.
pub const STEP: std::time::Duration = std::time::Duration::from_secs(10);

/// `URL --close-by client|server --code CODE --reason REASON [--label NAME]`.
pub struct Args {
    pub url: String,
    pub label: String,
    pub client_closes: bool,
    pub code: u16,
    pub reason: String,
}

impl Args {
    /// The process's arguments, or why they are wrong (with the usage line).
    pub fn parse(program: &str) -> Result<Args, String> {
        Args::from(std::env::args().skip(1)).map_err(|e| {
            format!("{program}: {e}\nusage: {program} URL --close-by client|server --code CODE --reason REASON [--label NAME]")
        })
    }

    fn from(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut url = None;
        let (mut label, mut close_by, mut code, mut reason) = (None, None, None, None);
        while let Some(arg) = it.next() {
            let mut value = || it.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--label" => label = Some(value()?),
                "--close-by" => close_by = Some(value()?),
                "--code" => code = Some(value()?.parse::<u16>().map_err(|e| format!("--code: {e}"))?),
                "--reason" => reason = Some(value()?),
                _ if url.is_none() && !arg.starts_with("--") => url = Some(arg),
                _ => return Err(format!("unexpected argument {arg:?}")),
            }
        }
        let url = url.ok_or("no URL")?;
        let client_closes = match close_by.as_deref() {
            Some("client") => true,
            Some("server") => false,
            _ => return Err("--close-by must be client or server".into()),
        };
        Ok(Args {
            label: label.unwrap_or_else(|| url.clone()),
            url,
            client_closes,
            code: code.ok_or("no --code")?,
            reason: reason.ok_or("no --reason")?,
        })
    }

    /// What the close check says it checks.
    pub fn close_check(&self) -> String {
        let code = self.code;
        match self.client_closes {
            true => format!("we close with {code}: the peer answers {code} and the reason, cleanly"),
            false => format!("the peer closes with {code} and the reason, cleanly"),
        }
    }
}

/// The checks' results: one `ok: LABEL: …` or `FAIL: LABEL: …` line each.
pub struct Checks {
    pub label: String,
    pub failed: usize,
}

impl Checks {
    pub fn check(&mut self, ok: bool, what: &str, detail: String) {
        if ok {
            println!("ok: {}: {what}", self.label);
        } else {
            self.failed += 1;
            println!("FAIL: {}: {what} ({detail})", self.label);
        }
    }
}

/// Text of exactly `n` bytes made of 1-, 2-, 3- and 4-byte characters, with
/// ASCII to fill the last few bytes (the same in the Python and Node peers).
pub fn text_of(n: usize) -> String {
    const PATTERN: &str = "aé€😀"; // 1 + 2 + 3 + 4 bytes
    let mut text = PATTERN.repeat(n / PATTERN.len());
    text.extend(std::iter::repeat_n('a', n % PATTERN.len()));
    text
}

/// `n` bytes counting 0..=250 over and over (a period that is not a power of two).
pub fn binary_of(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}
