//! Test support for the pages the house writes (the report, the dashboard): the headless
//! browser that renders them, found once. CI installs Debian's `chromium` (`.ci/run`); a test
//! that needs it and finds none fails under CI and skips elsewhere ([`headless_or_skip`]).

use std::process::Command;

/// The first headless-capable browser on `PATH`.
pub fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|c| c.to_string())
}

/// The browser, or `None` after saying the test skips its browser half; under CI (`CI` set) a
/// missing browser is a failure, not a skip.
pub fn headless_or_skip(what: &str) -> Option<String> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (.ci/run does)"
        );
        eprintln!("chromium not installed: skipping {what}");
    }
    found
}

/// The DOM after the page's scripts ran for `budget_ms` of virtual time.
pub fn dump_dom(browser: &str, url: &str, budget_ms: u32) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            &format!("--virtual-time-budget={budget_ms}"),
            "--dump-dom",
            url,
        ])
        .output()
        .expect("the browser runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
