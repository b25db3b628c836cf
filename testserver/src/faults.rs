//! The faults a request can ask for through the `/fault/<spec>` path prefix.

use std::time::Duration;

/// Parsed from a comma-separated spec. Items:
/// - `status=N`: answer HTTP N with a JSON error body.
/// - `delay=MS`: wait MS milliseconds before answering.
/// - `silence`: never answer (the connection stays open until the client leaves).
/// - `truncate`: announce the full Content-Length, send half the body, close the connection.
/// - `not-json`: a 200 answer whose body is HTML.
/// - `no-message`: a JSON answer without the `message` field.
/// - `response-false`: `{"response": false, "message": "..."}`.
/// - `echo`: the answer's text is the request as received (method, path, headers, body) as JSON.
/// - `size=N`: the answer's text is N bytes of `a`.
/// - `redirect`: a 302 to the same route without the fault prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    pub status: Option<u16>,
    pub delay: Option<Duration>,
    pub silence: bool,
    pub truncate: bool,
    pub not_json: bool,
    pub no_message: bool,
    pub response_false: bool,
    pub echo: bool,
    pub size: Option<usize>,
    pub redirect: bool,
}

impl Faults {
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for item in spec.split(',').filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=').unwrap_or((item, ""));
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("fault {name:?} needs a number, got {value:?}"))
            };
            match name {
                "status" => {
                    f.status = Some(
                        u16::try_from(number()?).map_err(|_| "status out of range".to_string())?,
                    )
                }
                "delay" => f.delay = Some(Duration::from_millis(number()?)),
                "silence" => f.silence = true,
                "truncate" => f.truncate = true,
                "not-json" => f.not_json = true,
                "no-message" => f.no_message = true,
                "response-false" => f.response_false = true,
                "echo" => f.echo = true,
                "size" => f.size = Some(number()? as usize),
                "redirect" => f.redirect = true,
                _ => return Err(format!("unknown fault {name:?}")),
            }
        }
        Ok(f)
    }

    /// Splits `/fault/<spec>/rest` into the faults and `/rest`; other paths have no faults.
    pub fn split_path(path: &str) -> Result<(Faults, &str), String> {
        match path.strip_prefix("/fault/") {
            Some(rest) => {
                let (spec, route) = rest
                    .find('/')
                    .map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
                Ok((Faults::parse(spec)?, route))
            }
            None => Ok((Faults::default(), path)),
        }
    }

    /// Waits as `delay` and `silence` ask.
    pub async fn wait(&self) {
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        if self.silence {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_items_combine() {
        let (f, route) = Faults::split_path("/fault/delay=20,status=503/api/text").unwrap();
        assert_eq!(route, "/api/text");
        assert_eq!(f.delay, Some(Duration::from_millis(20)));
        assert_eq!(f.status, Some(503));
    }

    #[test]
    fn unknown_fault_is_refused() {
        assert!(Faults::parse("explode").is_err());
    }

    #[test]
    fn plain_path_has_no_faults() {
        assert_eq!(
            Faults::split_path("/api/text").unwrap(),
            (Faults::default(), "/api/text")
        );
    }
}
