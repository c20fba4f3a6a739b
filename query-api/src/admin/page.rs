//! `GET /admin`: the console, one self-contained page (its CSS and script are inlined at
//! build time; nothing is loaded from anywhere else). The page itself is public: it holds no
//! data, and asks for a token before calling the admin endpoints.
//!
//! The Content-Security-Policy allows exactly the inlined style and script (by hash), and
//! connections only to this origin.

use std::sync::LazyLock;

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::IntoResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

const TEMPLATE: &str = include_str!("console.html");
const STYLE: &str = include_str!("console.css");
const SCRIPT: &str = include_str!("console.js");

struct Page {
    html: String,
    policy: HeaderValue,
}

static PAGE: LazyLock<Page> = LazyLock::new(|| {
    let hash = |text: &str| STANDARD.encode(Sha256::digest(text.as_bytes()));
    let policy = format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; \
         connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'",
        hash(SCRIPT),
        hash(STYLE)
    );
    Page {
        html: TEMPLATE
            .replace("/*{{style}}*/", STYLE)
            .replace("/*{{script}}*/", SCRIPT),
        policy: HeaderValue::from_str(&policy).expect("the policy is visible ASCII"),
    }
});

#[utoipa::path(get, path = "/admin", operation_id = "admin_console", tag = "admin", security(),
    responses((status = 200, description = "The admin console (HTML); it asks for an admin token", content_type = "text/html")))]
pub(crate) async fn console() -> impl IntoResponse {
    let page = &*PAGE;
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CONTENT_SECURITY_POLICY, page.policy.clone()),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
        ],
        page.html.clone(),
    )
}
