//! `scan --html` through the binary against a real `openssl s_server` on
//! loopback, the page then opened in headless Chromium with JavaScript off:
//! the DOM Chromium builds holds every section of the checks that ran, with
//! the facts the server really has (checked against `openssl s_client`),
//! and a full-page screenshot shows each section's heading, top to bottom,
//! in the order of `html::SECTIONS`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::{s_client, served_leaf_sha256, OpensslServer};
use tlsposture::report::html::{Section, RUN_SUMMARY, SECTIONS, TOC};

const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);
const WIDTH: u32 = 1280;
/// Tall enough for the whole page of the scan below (the summary heading,
/// the last marker, proves the page was not cut).
const HEIGHT: u32 = 7000;

/// Headless Chromium with a fresh profile in which JavaScript is off (the
/// content setting; `--blink-settings=scriptEnabled=false` also stops
/// headless mode's own dump and screenshot).
struct Chromium {
    binary: PathBuf,
}

impl Chromium {
    /// Panics (the test fails) when Chromium is not installed.
    fn find() -> Chromium {
        let candidates = std::env::var_os("CHROMIUM")
            .map(PathBuf::from)
            .into_iter()
            .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from));
        let binary = candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
            panic!(
                "headless Chromium not found: apt-get install chromium (scripts/setup.sh installs it), or set CHROMIUM"
            )
        });
        Chromium { binary }
    }

    /// Runs Chromium on `page` with `args` and returns its stdout; the
    /// profile directory is removed afterwards and every process of the
    /// run's group ended.
    fn run(&self, page: &Path, args: &[String]) -> String {
        let profile = tempfile::tempdir().expect("a profile directory");
        let prefs = profile.path().join("Default");
        std::fs::create_dir_all(&prefs).expect("creating the profile");
        std::fs::write(
            prefs.join("Preferences"),
            r#"{"profile":{"default_content_setting_values":{"javascript":2}}}"#,
        )
        .expect("writing the profile's preferences");
        let out_dir = tempfile::tempdir().expect("a directory for Chromium's output");
        let stdout = out_dir.path().join("stdout");
        let stderr = out_dir.path().join("stderr");
        let mut child = {
            use std::os::unix::process::CommandExt;
            Command::new(&self.binary)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--force-color-profile=srgb",
                    "--hide-scrollbars",
                ])
                .arg(format!("--user-data-dir={}", profile.path().display()))
                .args(args)
                .arg(format!("file://{}", page.display()))
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&stdout).expect("stdout file"))
                .stderr(std::fs::File::create(&stderr).expect("stderr file"))
                .process_group(0)
                .spawn()
                .expect("starting chromium")
        };
        let deadline = Instant::now() + CHROMIUM_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting for chromium") {
                break Some(status);
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // Chromium's helpers (zygote, crashpad) share its process group.
        // SAFETY: kill(2) on the group of the child this test spawned.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        let _ = child.wait();
        let err = std::fs::read_to_string(&stderr).unwrap_or_default();
        match status {
            None => panic!("chromium did not finish within {CHROMIUM_TIMEOUT:?}: {err}"),
            Some(s) if !s.success() => panic!("chromium failed ({s}): {err}"),
            Some(_) => std::fs::read_to_string(&stdout).expect("reading chromium's output"),
        }
    }

    /// The DOM after loading `page`.
    fn dump_dom(&self, page: &Path) -> String {
        self.run(page, &["--dump-dom".to_string()])
    }

    /// A screenshot of the top WIDTH × HEIGHT of `page`.
    fn screenshot(&self, page: &Path, png: &Path) {
        self.run(
            page,
            &[
                format!("--window-size={WIDTH},{HEIGHT}"),
                format!("--screenshot={}", png.display()),
            ],
        );
        assert!(png.is_file(), "chromium wrote no screenshot");
    }
}

/// The inner HTML of the element whose `id` is `id`, up to the first
/// closing `</section>` or `</nav>` (sections do not nest below a target).
fn section<'a>(dom: &'a str, id: &str) -> Option<&'a str> {
    let start = dom.find(&format!("id=\"{id}\""))?;
    let open = &dom[start..];
    let rest = &open[open.find('>')? + 1..];
    let end = ["</section>", "</nav>"]
        .iter()
        .filter_map(|end| rest.find(end))
        .min()?;
    Some(&rest[..end])
}

/// The text of some HTML: tags become spaces, runs of white space one.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn colour(section: &Section) -> [u8; 3] {
    let hex = section.colour.trim_start_matches('#');
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("a hex colour");
    [byte(0), byte(2), byte(4)]
}

/// The decoded screenshot, RGB rows.
struct Picture {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Picture {
    fn read(path: &Path) -> Picture {
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(path).expect("opening the screenshot"),
        ));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("a PNG size")];
        let info = reader.next_frame(&mut buf).expect("decoding the PNG");
        assert_eq!(info.bit_depth, png::BitDepth::Eight, "8-bit screenshot");
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("unexpected PNG colour type {other:?}"),
        };
        let rgb = buf[..info.buffer_size()]
            .chunks(channels)
            .flat_map(|px| [px[0], px[1], px[2]])
            .collect();
        Picture {
            width: info.width as usize,
            height: info.height as usize,
            rgb,
        }
    }

    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// The first row, at or below `from`, with a run of at least `min`
    /// pixels of `colour` (a heading's background bar, not a glyph's edge).
    fn first_bar(&self, colour: [u8; 3], from: usize, min: usize) -> Option<usize> {
        (from..self.height).find(|&y| {
            (0..self.width)
                .filter(|&x| self.pixel(x, y) == colour)
                .count()
                >= min
        })
    }

    /// Share of pixels that are not white.
    fn ink(&self) -> f64 {
        let inked = self
            .rgb
            .chunks(3)
            .filter(|px| px != &[255, 255, 255])
            .count();
        inked as f64 / (self.width * self.height) as f64
    }

    /// Pixels dark enough to be text.
    fn dark(&self) -> usize {
        self.rgb
            .chunks(3)
            .filter(|px| px.iter().all(|c| *c < 80))
            .count()
    }
}

/// Scans the server with every check but authorization (no policy), the
/// client simulation cut to a few profiles to keep the page short; the
/// report as JSON and as HTML.
fn scan(server: &OpensslServer, dir: &Path) -> (i32, Value, PathBuf) {
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, server.ca_pem()).expect("writing ca.pem");
    let html = dir.join("report.html");
    let json = dir.join("report.json");
    let out = assert_cmd::Command::cargo_bin("tlsposture")
        .unwrap()
        .args(["scan", &server.addr().to_string(), "--sni", "localhost"])
        .arg("--ca")
        .arg(&ca)
        .args(["--clients", "chrome 136,firefox 132"])
        .arg("--html")
        .arg(&html)
        .arg("--json")
        .arg(&json)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("tlsposture runs");
    let code = out.status.code().expect("an exit code");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    }))
    .expect("a JSON report");
    (code, report, html)
}

/// The sections the scan must have produced: all but the ones that need a
/// policy (authorization, plain-HTTP redirects).
fn expected_sections() -> Vec<&'static Section> {
    SECTIONS
        .iter()
        .filter(|s| !["authorization", "redirects"].contains(&s.key))
        .collect()
}

#[test]
fn chromium_shows_every_section_with_the_servers_facts() {
    let chromium = Chromium::find();
    let server = OpensslServer::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, report, page) = scan(&server, dir.path());
    assert!(code == 0 || code == 1, "exit {code}: {report:#}");
    let target = &report["targets"][0];
    assert!(
        !target["findings"].as_array().unwrap().is_empty(),
        "the scan is expected to have findings (CBC suites): {target:#}"
    );

    // JavaScript is really off in this profile: a page's script leaves
    // its text as it was.
    let control = dir.path().join("script.html");
    std::fs::write(
        &control,
        "<p id=\"x\">static</p><script>document.getElementById('x').textContent='ran'</script>",
    )
    .unwrap();
    let dom = chromium.dump_dom(&control);
    assert!(
        dom.contains(">static</p>"),
        "JavaScript ran in the test profile: {dom}"
    );

    let dom = chromium.dump_dom(&page);
    for s in expected_sections() {
        let id = format!("target-1-{}", s.key);
        assert!(
            dom.contains(&format!("id=\"{id}\" class=\"section {}\"", s.key)),
            "no section {id} of class {}",
            s.key
        );
        let html = section(&dom, &id).unwrap();
        assert!(text(html).starts_with(s.title), "{id}: {}", text(html));
    }
    for id in ["toc", "summary", "target-1"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no {id}");
    }

    // What the server really does, asked with openssl s_client.
    let tls13 = s_client(
        server.addr(),
        Some("localhost"),
        &["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"],
    );
    assert_eq!(
        tls13.cipher.as_deref(),
        Some("TLS_CHACHA20_POLY1305_SHA256"),
        "{}",
        tls13.output
    );
    let tls12 = s_client(
        server.addr(),
        Some("localhost"),
        &["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
    );
    assert_eq!(
        tls12.cipher.as_deref(),
        Some("ECDHE-RSA-AES128-GCM-SHA256"),
        "{}",
        tls12.output
    );
    let tls11 = s_client(server.addr(), Some("localhost"), &["-tls1_1"]);
    assert_eq!(tls11.cipher, None, "{}", tls11.output);

    let protocols = text(section(&dom, "target-1-protocols").unwrap());
    for row in [
        "TLS1.3 offered (OK)",
        "TLS1.2 offered (OK)",
        "TLS1.1 not offered",
        "SSLv3 not offered (OK)",
    ] {
        assert!(protocols.contains(row), "{row:?} not in: {protocols}");
    }
    let suites = text(section(&dom, "target-1-suites").unwrap());
    for name in [
        "TLS_CHACHA20_POLY1305_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ] {
        assert!(suites.contains(name), "{name} not in: {suites}");
    }
    // Every suite of the JSON report is in the page.
    for s in target["cipher_suites"].as_array().unwrap() {
        let iana = s["iana"].as_str().unwrap();
        assert!(suites.contains(iana), "{iana} not in: {suites}");
    }

    let certificates = text(section(&dom, "target-1-certificates").unwrap());
    let leaf = &target["certificates"][0]["chain"][0];
    let subject = leaf["subject"].as_str().unwrap();
    assert!(subject.contains("localhost"), "{subject}");
    assert!(
        certificates.contains(subject),
        "{subject} not in: {certificates}"
    );
    let sha256 = served_leaf_sha256(server.addr(), Some("localhost"), &[]).expect("a fingerprint");
    assert!(
        certificates.contains(&sha256[..16]),
        "{} not in: {certificates}",
        &sha256[..16]
    );

    let summary = text(section(&dom, "summary").unwrap());
    assert!(
        summary.contains(&format!("Exit code {code} (fail-on high)")),
        "{summary}"
    );
    let toc = text(section(&dom, "toc").unwrap());
    let address = target["address"].as_str().unwrap();
    assert!(toc.contains(address), "{toc}");
    assert!(dom.contains("href=\"#target-1\""));

    // The screenshot: not blank, and each section's heading bar drawn in
    // the page's order, the table of contents first, the summary last.
    let png = dir.path().join("page.png");
    chromium.screenshot(&page, &png);
    let picture = Picture::read(&png);
    assert_eq!(
        (picture.width, picture.height),
        (WIDTH as usize, HEIGHT as usize)
    );
    assert!(
        picture.ink() > 0.05,
        "blank page: {:.3} inked",
        picture.ink()
    );
    assert!(
        picture.dark() > 5_000,
        "no text: {} dark pixels",
        picture.dark()
    );
    let order: Vec<&Section> = [&TOC]
        .into_iter()
        .chain(expected_sections())
        .chain([&RUN_SUMMARY])
        .collect();
    let mut y = 0;
    let mut found = Vec::new();
    for s in order {
        let at = picture.first_bar(colour(s), y, 200).unwrap_or_else(|| {
            panic!(
                "{} ({}) not drawn below y={y}; found {found:?}",
                s.key, s.colour
            )
        });
        found.push((s.key, at));
        y = at + 1;
    }
}

#[test]
fn a_target_that_could_not_be_scanned_says_so_in_the_page() {
    let chromium = Chromium::find();
    // A loopback port nobody listens on.
    let port = support::ports::closed_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("report.html");
    let out = assert_cmd::Command::cargo_bin("tlsposture")
        .unwrap()
        .args(["scan", &format!("127.0.0.1:{port}"), "--timeout", "1s"])
        .arg("--html")
        .arg(&page)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("tlsposture runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = chromium.dump_dom(&page);
    let toc = text(section(&dom, "toc").expect("a table of contents"));
    assert!(toc.contains("could not scan"), "{toc}");
    let overview = text(section(&dom, "target-1-overview").expect("an overview"));
    assert!(overview.contains("Reachable NO"), "{overview}");
    assert!(overview.contains("Could not scan"), "{overview}");
    let summary = text(section(&dom, "summary").expect("a summary"));
    assert!(summary.contains("Exit code 2"), "{summary}");
    assert!(
        section(&dom, "target-1-suites").is_none(),
        "no suites section for a target never reached"
    );
}

/// The start of every run of rows drawn in `colour` (one per heading bar).
fn bars(picture: &Picture, colour: [u8; 3]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut y = 0;
    while let Some(at) = picture.first_bar(colour, y, 200) {
        starts.push(at);
        y = at;
        while y < picture.height && picture.first_bar(colour, y, 200) == Some(y) {
            y += 1;
        }
    }
    starts
}

/// Several targets in one page: `demo` scans the lab's four Envoy
/// listeners; the table of contents links each, and each has its own
/// sections with its own facts (the listeners' known protocol ranges).
#[test]
fn the_lab_demo_is_one_page_with_a_section_per_listener() {
    let chromium = Chromium::find();
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("demo.html");
    let out = assert_cmd::Command::cargo_bin("tlsposture")
        .unwrap()
        .args(["demo", "--checks", "protocols,certificates", "--html"])
        .arg(&page)
        .timeout(Duration::from_secs(180))
        .output()
        .expect("tlsposture demo runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = chromium.dump_dom(&page);
    let toc = text(section(&dom, "toc").expect("a table of contents"));
    // (label, a protocol row it must show, one it must not offer)
    let truth = [
        ("min-tls12", "TLS1.3 offered (OK)", "TLS1.1 not offered"),
        ("tls12-only", "TLS1.2 offered (OK)", "TLS1.3 not offered"),
        ("tls13-only", "TLS1.3 offered (OK)", "TLS1.2 not offered"),
        (
            "legacy-tls10",
            "TLS1.0 offered (deprecated)",
            "SSLv3 not offered (OK)",
        ),
    ];
    for (i, (label, offered, refused)) in truth.iter().enumerate() {
        let n = i + 1;
        assert!(
            dom.contains(&format!("href=\"#target-{n}\"")),
            "no link to {n}"
        );
        assert!(toc.contains(&format!("[{label}]")), "{label} not in: {toc}");
        let heading = &dom[dom.find(&format!("id=\"target-{n}\"")).unwrap()..];
        let heading = text(&heading[..heading.find("</h1>").unwrap()]);
        assert!(heading.contains(&format!("[{label}]")), "{heading}");
        let protocols = text(section(&dom, &format!("target-{n}-protocols")).unwrap());
        assert!(protocols.contains(offered), "{label}: {protocols}");
        assert!(protocols.contains(refused), "{label}: {protocols}");
        assert!(section(&dom, &format!("target-{n}-certificates")).is_some());
        assert!(section(&dom, &format!("target-{n}-suites")).is_none());
    }

    let png = dir.path().join("demo.png");
    chromium.screenshot(&page, &png);
    let picture = Picture::read(&png);
    let protocols = SECTIONS.iter().find(|s| s.key == "protocols").unwrap();
    let certificates = SECTIONS.iter().find(|s| s.key == "certificates").unwrap();
    let p = bars(&picture, colour(protocols));
    let c = bars(&picture, colour(certificates));
    assert_eq!(
        (p.len(), c.len()),
        (4, 4),
        "protocol bars {p:?}, certificate bars {c:?}"
    );
    // Each target's protocols above its certificates, above the next target.
    for i in 0..4 {
        assert!(p[i] < c[i], "{p:?} {c:?}");
        if i + 1 < 4 {
            assert!(c[i] < p[i + 1], "{p:?} {c:?}");
        }
    }
    let summary = picture.first_bar(colour(&RUN_SUMMARY), c[3], 200);
    assert!(
        summary.is_some(),
        "the run summary is drawn after the last target"
    );
}

#[test]
fn an_unwritable_html_path_is_one_clear_error() {
    let port = support::ports::closed_port();
    let out = assert_cmd::Command::cargo_bin("tlsposture")
        .unwrap()
        .args(["scan", &format!("127.0.0.1:{port}"), "--timeout", "1s"])
        .args(["--html", "/nonexistent/dir/report.html"])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("tlsposture runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("cannot write the HTML report to /nonexistent/dir/report.html"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
