//! The built-in pages are served with headers that keep the phone link's token private.

use reqwest::Method;

use crate::helpers::spawn_app;

#[tokio::test]
async fn pages_are_served_with_their_security_headers() {
    let app = spawn_app().await;
    for (path, marker) in [("/", "新建备案订单"), ("/m/some-token", "上传备案材料")] {
        let res = app.request(Method::GET, path, None, None).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let h = res.headers().clone();
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
        assert_eq!(
            h["referrer-policy"], "no-referrer",
            "the phone URL carries a token"
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"));
        assert!(res.text().await.unwrap().contains(marker), "{path}");
    }
    app.stop().await;
}
