//! A page driven as a user drives it: Debian's Chromium over the DevTools protocol
//! (`headless_chrome`), with real key and mouse events, and waits that poll the page's state.

use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a page may take to reach a state it waits for.
const PATIENCE: Duration = Duration::from_secs(30);

/// The browser, or `None` where there is none (a failure under CI: `headless_or_skip`).
pub fn browser(what: &str) -> Option<Browser> {
    let path = medisim_core::browser::headless_or_skip(what)?;
    let options = LaunchOptions::default_builder()
        .path(Some(path.into()))
        .sandbox(false)
        .window_size(Some((1400, 1000)))
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    Some(Browser::new(options).expect("Chromium starts under the DevTools protocol"))
}

/// A fresh tab on `url`, loaded.
pub fn open(browser: &Browser, url: &str) -> Arc<Tab> {
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(PATIENCE);
    tab.navigate_to(url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab
}

/// The value of a JavaScript expression on the page.
pub fn js(tab: &Tab, expression: &str) -> Value {
    // Through JSON, so that arrays and objects come back whole, not as remote references.
    let json = tab
        .evaluate(&format!("JSON.stringify({expression})"), true)
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
        .value;
    match json {
        Some(Value::String(text)) => serde_json::from_str(&text).unwrap(),
        _ => Value::Null,
    }
}

/// A text on the page, by CSS selector ("" when there is no such element).
pub fn text_of(tab: &Tab, selector: &str) -> String {
    let q = serde_json::to_string(selector).unwrap();
    js(
        tab,
        &format!("(document.querySelector({q}) || {{textContent: ''}}).textContent"),
    )
    .as_str()
    .unwrap_or("")
    .to_string()
}

/// Wait until `expression` is true on the page; on a timeout, fail with `what` and the page.
pub fn wait_until(tab: &Tab, expression: &str, what: &str) {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        if js(tab, &format!("!!({expression})")) == Value::Bool(true) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let state = js(
        tab,
        "({url: location.href, ready: document.readyState, count: (document.querySelector('#count') || {}).textContent, \
          error: (document.querySelector('#error') || {}).textContent, provenance: (document.querySelector('#provenance') || {}).textContent})",
    );
    panic!("timed out waiting for {what} ({expression}); the page: {state}");
}

/// Replace an input's text by typing `text` into it, key by key.
pub fn type_over(tab: &Tab, selector: &str, text: &str) {
    let q = serde_json::to_string(selector).unwrap();
    js(
        tab,
        &format!("(() => {{ const i = document.querySelector({q}); i.focus(); i.select(); }})()"),
    );
    tab.press_key("Backspace").unwrap();
    tab.type_str(text).unwrap();
}

/// A screenshot of the page, written where the test's files go, for a person to look at.
pub fn screenshot(tab: &Tab, name: &str) -> std::path::PathBuf {
    use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    path
}
