//! `dash-plan FILE_OR_URL [--language L] [--bitrate B] [--all]`: prints the download plan of a
//! manifest, one JSON object per segment and line:
//! `{"period","track","kind","url","range","start","end"}` (range inclusive, times on the
//! presentation timeline, null for init segments). A file path resolves relative URLs against
//! its `file://` URL.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool: its output is stdout, its diagnostics stderr"
)]

use mpd::{Planner, SelectOptions};
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use url::Url;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dash-plan: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut source = None;
    let mut options = SelectOptions::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--language" => options.language = Some(args.next().ok_or("--language needs a value")?),
            "--bitrate" => {
                let v = args.next().ok_or("--bitrate needs a value")?;
                options.bitrate = Some(
                    v.parse()
                        .map_err(|_| format!("--bitrate {v} is not a number"))?,
                );
            }
            "--all" => options.all = true,
            "-h" | "--help" => {
                println!("usage: dash-plan FILE_OR_URL [--language L] [--bitrate B] [--all]");
                return Ok(());
            }
            other if source.is_none() => source = Some(other.to_string()),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    let source =
        source.ok_or("usage: dash-plan FILE_OR_URL [--language L] [--bitrate B] [--all]")?;
    let (url, text) = load(&source)?;
    let mut links = mpd::Xlinks::parse(&text, &url).map_err(|e| e.to_string())?;
    loop {
        let needs = links.needs().map_err(|e| e.to_string())?;
        if needs.is_empty() {
            break;
        }
        let mut docs = Vec::with_capacity(needs.len());
        for need in &needs {
            let (final_url, text) = load(&need.url)?;
            docs.push((final_url.to_string(), text));
        }
        links.resolve(docs).map_err(|e| e.to_string())?;
    }
    let planner =
        Planner::from_root(links.into_root(), &url, &options).map_err(|e| e.to_string())?;
    let mut indexes = HashMap::new();
    // Hierarchical indexes take a round per level; the planner caps the depth, this the loop.
    for _ in 0..16 {
        let needs = planner
            .pending_index_needs(&indexes)
            .map_err(|e| e.to_string())?;
        if needs.is_empty() {
            break;
        }
        for need in needs {
            indexes.insert(need.key, read_range(&need.url, need.range)?);
        }
    }
    let (plan, _) = planner.finish(&indexes).map_err(|e| e.to_string())?;
    let manifest = planner.manifest();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for track in &plan.tracks {
        let period = manifest
            .periods
            .get(track.period)
            .and_then(|p| p.id.clone())
            .unwrap_or_else(|| track.period.to_string());
        let mut line = |v: serde_json::Value| writeln!(out, "{v}").map_err(|e| e.to_string());
        if let Some(init) = &track.init {
            line(
                json!({"period": period, "track": track.id, "kind": "init", "url": init.url,
                "range": init.range, "start": null, "end": null}),
            )?;
        }
        for s in &track.segments {
            line(
                json!({"period": period, "track": track.id, "kind": "media", "url": s.url,
                "range": s.range, "start": s.start, "end": s.end}),
            )?;
        }
    }
    out.flush().map_err(|e| e.to_string())
}

/// Reads a manifest (or an xlink document) from a file path, a `file://` URL or an `http://`
/// URL (following redirects, so relative URLs resolve against the final URL as players do).
fn load(source: &str) -> Result<(Url, String), String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let (url, body) = http_get(source, None)?;
        return Ok((
            url,
            String::from_utf8(body).map_err(|e| format!("{source}: {e}"))?,
        ));
    }
    let path = match Url::parse(source).ok().filter(|u| u.scheme() == "file") {
        Some(u) => u
            .to_file_path()
            .map_err(|()| format!("{source}: not a file path"))?,
        None => std::path::PathBuf::from(source),
    };
    let path = std::fs::canonicalize(path).map_err(|e| format!("{source}: {e}"))?;
    let url = Url::from_file_path(&path).map_err(|()| format!("{source}: not an absolute path"))?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{source}: {e}"))?;
    Ok((url, text))
}

/// A plain HTTP/1.1 GET (no TLS: https is refused), following up to 5 redirects.
fn http_get(start: &str, range: Option<[u64; 2]>) -> Result<(Url, Vec<u8>), String> {
    use std::io::Read;
    let mut url = Url::parse(start).map_err(|e| format!("{start}: {e}"))?;
    for _ in 0..5 {
        if url.scheme() != "http" {
            return Err(format!("{url}: only http:// URLs can be fetched (no TLS here); download the manifest and pass its path"));
        }
        let host = url
            .host_str()
            .ok_or_else(|| format!("{url}: no host"))?
            .to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let mut stream = std::net::TcpStream::connect((host.as_str(), port))
            .map_err(|e| format!("{url}: {e}"))?;
        let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let range_header = range
            .map(|[a, b]| format!("Range: bytes={a}-{b}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{range_header}Connection: close\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .map_err(|e| format!("{url}: {e}"))?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| format!("{url}: malformed HTTP response"))?;
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let body = raw[split + 4..].to_vec();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{url}: no status"))?;
        let header = |name: &str| {
            head.lines().skip(1).find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_string())
            })
        };
        if (300..400).contains(&status) {
            let to =
                header("location").ok_or_else(|| format!("{url}: redirect without Location"))?;
            url = url.join(&to).map_err(|e| format!("{to}: {e}"))?;
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(format!("{url}: HTTP {status}"));
        }
        if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            return Err(format!("{url}: chunked responses are not supported"));
        }
        return Ok((url, body));
    }
    Err(format!("{start}: too many redirects"))
}

/// Reads an inclusive byte range of a `file://` or `http://` URL (a SegmentBase index), or the
/// whole file (a `SegmentTemplate@index` file) up to [`mpd::MAX_INDEX_FILE_BYTES`].
fn read_range(url: &str, range: Option<[u64; 2]>) -> Result<Vec<u8>, String> {
    use std::io::{Read, Seek, SeekFrom};
    let Some([a, b]) = range else {
        let body = if url.starts_with("http://") {
            http_get(url, None)?.1
        } else {
            let path = Url::parse(url)
                .ok()
                .and_then(|u| u.to_file_path().ok())
                .ok_or_else(|| format!("{url}: only file URLs can be read for a segment index"))?;
            let file = std::fs::File::open(&path).map_err(|e| format!("{url}: {e}"))?;
            let mut buf = Vec::new();
            file.take(mpd::MAX_INDEX_FILE_BYTES + 1)
                .read_to_end(&mut buf)
                .map_err(|e| format!("{url}: {e}"))?;
            buf
        };
        if body.len() as u64 > mpd::MAX_INDEX_FILE_BYTES {
            return Err(format!(
                "{url}: the index file exceeds {} bytes",
                mpd::MAX_INDEX_FILE_BYTES
            ));
        }
        return Ok(body);
    };
    let len = mpd::range_len([a, b]).ok_or_else(|| format!("{url}: bad byte range {a}-{b}"))?;
    if url.starts_with("http://") {
        let (_, mut body) = http_get(url, Some([a, b]))?;
        if body.len() as u64 > len {
            body = body
                .get(a as usize..=b as usize)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| format!("{url}: short body"))?;
        }
        return Ok(body);
    }
    let path = Url::parse(url)
        .ok()
        .and_then(|u| u.to_file_path().ok())
        .ok_or_else(|| format!("{url}: only file URLs can be read for a segment index"))?;
    let mut file = std::fs::File::open(&path).map_err(|e| format!("{url}: {e}"))?;
    file.seek(SeekFrom::Start(a))
        .map_err(|e| format!("{url}: {e}"))?;
    let mut buf = Vec::new();
    file.take(len)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(buf)
}
