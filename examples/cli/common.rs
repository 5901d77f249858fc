//! What the two command-line clients (`client` on the blocking adapter,
//! `raw_client` on the engine alone) share: their arguments and how they print
//! binary. Each includes this file with `#[path]`.

use rfc6455::ClientRequest;

/// `ws://HOST:PORT/PATH [--protocol NAME]...` as a request; `None` after
/// `--help` printed the usage.
pub fn request_from_args(program: &str) -> Result<Option<ClientRequest>, String> {
    let usage = format!("usage: {program} ws://HOST:PORT/PATH [--protocol NAME]...");
    let mut url = None;
    let mut protocols = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--protocol" | "-p" => protocols.push(args.next().ok_or("--protocol needs a name")?),
            "--help" | "-h" => {
                println!("{usage}");
                return Ok(None);
            }
            _ if url.is_none() => url = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    let url = url.ok_or(usage)?;
    let mut request = ClientRequest::new(&url).map_err(|e| format!("{url}: {e}"))?;
    if request.is_secure() {
        return Err("wss:// needs TLS, which this example does not support; use ws://".into());
    }
    for name in &protocols {
        request = request.protocol(name);
    }
    Ok(Some(request))
}

/// Up to 32 bytes as hex, with an ellipsis past that.
pub fn hex(data: &[u8]) -> String {
    let mut out: String = data.iter().take(32).map(|b| format!("{b:02x}")).collect();
    if data.len() > 32 {
        out.push('…');
    }
    out
}
