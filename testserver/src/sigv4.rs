//! An AWS Signature Version 4 verifier for the Bedrock route, written from AWS's description
//! of the algorithm and independent of the library's signer: it rebuilds the canonical request
//! from what arrived and recomputes the signature with the secret of a fixed table of test
//! credentials ([`CREDENTIALS`]).
//!
//! The canonical request is the method; the path as received, encoded once more as botocore
//! does for every service but S3 (each byte but the unreserved `A-Za-z0-9-._~` and `/` as
//! `%XX`, upper-case hex: an ARN's `%3A` becomes `%253A`), or, with `double_encode` off (the
//! AWS test suite, S3), decoded and encoded once; the query's pairs encoded and sorted; each
//! signed header `name:value` with the value trimmed and inner runs of spaces made one; the
//! signed header names; and the hex SHA-256 of the body.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// One test credential: an access key id, its secret, and the session token it requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential {
    pub key_id: &'static str,
    pub secret: &'static str,
    /// When set, a request must carry `x-amz-security-token` equal to it (temporary credentials).
    pub session_token: Option<&'static str>,
}

/// Long-term test credentials.
pub const KEY_ID: &str = "AKIDTESTBEDROCK";
pub const SECRET: &str = "test/secret/KEY+1";
/// Temporary test credentials: they need [`SESSION_TOKEN`] in `x-amz-security-token`.
pub const SESSION_KEY_ID: &str = "ASIATESTBEDROCK";
pub const SESSION_SECRET: &str = "test/session/KEY+2";
pub const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEaichat/test+session=token";

/// The credentials the Bedrock route knows; any other key id is refused.
pub const CREDENTIALS: &[Credential] = &[
    Credential { key_id: KEY_ID, secret: SECRET, session_token: None },
    Credential { key_id: SESSION_KEY_ID, secret: SESSION_SECRET, session_token: Some(SESSION_TOKEN) },
];

/// How far `x-amz-date` may be from the server's clock.
pub const MAX_SKEW_SECONDS: u64 = 5 * 60;

/// A request as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded as it was on the wire).
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// Names in lower case (as hyper gives them), in the order received.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// What a verification requires.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The service the credential scope must name (`bedrock`).
    pub service: &'a str,
    pub credentials: &'a [Credential],
    /// Now, in seconds since the Unix epoch.
    pub now: u64,
    /// Encode the received path once more (every service but S3) rather than use it once encoded.
    pub double_encode: bool,
}

impl Rules<'static> {
    /// Bedrock's rules with this test server's credentials, at the current time.
    pub fn bedrock() -> Rules<'static> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        Rules { service: "bedrock", credentials: CREDENTIALS, now, double_encode: true }
    }
}

/// Why a request is refused: the HTTP status, the AWS error type and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub kind: &'static str,
    pub message: String,
}

fn reject(kind: &'static str, message: impl Into<String>) -> Rejection {
    Rejection { status: 403, kind, message: message.into() }
}

const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS \
                        Secret Access Key and signing method. Consult the service documentation for details.";

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub terminator: String,
    pub signed_headers: String,
    pub signature: String,
}

impl Authorization {
    /// `None` when the header is not SigV4's; otherwise its parts or what is wrong with them.
    pub fn parse(header: &str) -> Option<Result<Authorization, Rejection>> {
        let rest = header.strip_prefix("AWS4-HMAC-SHA256")?;
        if !rest.is_empty() && !rest.starts_with(' ') {
            return None;
        }
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = part.split_once('=') else {
                let message = format!("Invalid key=value pair (missing equal-sign) in Authorization header: '{part}'");
                return Some(Err(reject("IncompleteSignatureException", message)));
            };
            match name {
                "Credential" => credential = Some(value),
                "SignedHeaders" => signed_headers = Some(value),
                "Signature" => signature = Some(value),
                _ => {}
            }
        }
        let missing: Vec<String> =
            [("Credential", credential), ("Signature", signature), ("SignedHeaders", signed_headers)]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(name, _)| format!("Authorization header requires '{name}' parameter."))
                .collect();
        if !missing.is_empty() {
            return Some(Err(reject("IncompleteSignatureException", missing.join(" "))));
        }
        let credential = credential.unwrap_or_default();
        let scope: Vec<&str> = credential.split('/').collect();
        let [key_id, date, region, service, terminator] = scope[..] else {
            let message = format!(
                "Authorization header credential is malformed: '{credential}', expecting \
                 \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
            );
            return Some(Err(reject("IncompleteSignatureException", message)));
        };
        Some(Ok(Authorization {
            key_id: key_id.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            terminator: terminator.to_string(),
            signed_headers: signed_headers.unwrap_or_default().to_string(),
            signature: signature.unwrap_or_default().to_string(),
        }))
    }

    /// `DATE/REGION/SERVICE/aws4_request`.
    pub fn scope(&self) -> String {
        format!("{}/{}/{}/{}", self.date, self.region, self.service, self.terminator)
    }
}

/// The values of header `name` in `headers`.
fn values<'a>(headers: &'a [(String, String)], name: &str) -> impl Iterator<Item = &'a str> {
    let name = name.to_string();
    headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(&name)).map(|(_, v)| v.as_str())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    values(headers, name).next()
}

/// Checks the request's SigV4 `Authorization` header; the credential it was signed with, or
/// why it is refused (403 with AWS's error type and message).
pub fn verify<'c>(req: &Request, rules: &Rules<'c>) -> Result<&'c Credential, Rejection> {
    let header_value = header(req.headers, "authorization").unwrap_or("");
    let auth = match Authorization::parse(header_value) {
        Some(parsed) => parsed?,
        None => {
            return Err(reject("IncompleteSignatureException", "The Authorization header is not AWS4-HMAC-SHA256."));
        }
    };
    let Some(amz_date) = header(req.headers, "x-amz-date") else {
        return Err(reject(
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ));
    };
    let Some(signed_at) = parse_amz_date(amz_date) else {
        return Err(reject(
            "IncompleteSignatureException",
            format!("Date must be in ISO-8601 'basic format'. Got '{amz_date}'."),
        ));
    };
    if auth.terminator != "aws4_request" {
        return Err(reject(
            "InvalidSignatureException",
            "Credential should be scoped with a valid terminator: 'aws4_request'.",
        ));
    }
    if auth.service != rules.service {
        let message = format!("Credential should be scoped to correct service: '{}'. ", rules.service);
        return Err(reject("InvalidSignatureException", message));
    }
    if auth.date != amz_date[..8] {
        let message = format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', \
             from 'X-Amz-Date'.",
            auth.date,
            &amz_date[..8]
        );
        return Err(reject("InvalidSignatureException", message));
    }
    let signed: Vec<&str> = auth.signed_headers.split(';').collect();
    for (required, shown) in [("host", "Host"), ("x-amz-date", "X-Amz-Date")] {
        if !signed.contains(&required) {
            let message = format!("'{shown}' must be a 'SignedHeader' in the AWS Authorization.");
            return Err(reject("InvalidSignatureException", message));
        }
    }
    let token = header(req.headers, "x-amz-security-token");
    if token.is_some() && !signed.contains(&"x-amz-security-token") {
        let message = "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.";
        return Err(reject("InvalidSignatureException", message));
    }
    let Some(credential) = rules.credentials.iter().find(|c| c.key_id == auth.key_id) else {
        return Err(reject("UnrecognizedClientException", INVALID_TOKEN));
    };
    if token != credential.session_token {
        return Err(reject("UnrecognizedClientException", INVALID_TOKEN));
    }
    let (canonical, string_to_sign) = canonical_request(req, &auth, amz_date, rules.double_encode)?;
    let expected = signature(credential.secret, &auth, &string_to_sign);
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        let message = format!(
            "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n\
             The String-to-Sign should have been\n'{string_to_sign}'\n"
        );
        return Err(reject("InvalidSignatureException", message));
    }
    let skew = rules.now.abs_diff(signed_at);
    if skew > MAX_SKEW_SECONDS {
        let message = if signed_at < rules.now {
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - 5 min.)",
                format_amz_date(rules.now - MAX_SKEW_SECONDS),
                format_amz_date(rules.now)
            )
        } else {
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
                format_amz_date(rules.now + MAX_SKEW_SECONDS),
                format_amz_date(rules.now)
            )
        };
        return Err(reject("InvalidSignatureException", message));
    }
    Ok(credential)
}

/// The canonical request and the string to sign, as this server rebuilds them.
pub fn canonical_request(
    req: &Request,
    auth: &Authorization,
    amz_date: &str,
    double_encode: bool,
) -> Result<(String, String), Rejection> {
    let path = if req.path.is_empty() { "/" } else { req.path };
    let uri = if double_encode { encode(path.as_bytes(), false) } else { encode(&decode(path), false) };
    let mut pairs: Vec<(String, String)> = req
        .query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (encode(&decode(name), true), encode(&decode(value), true))
        })
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let mut headers = String::new();
    for name in auth.signed_headers.split(';') {
        let joined: Vec<String> =
            values(req.headers, name).map(|v| v.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
        headers.push_str(&format!("{name}:{}\n", joined.join(",")));
    }
    let body_hash = hex(&Sha256::digest(req.body));
    if let Some(claimed) = header(req.headers, "x-amz-content-sha256").filter(|c| *c != body_hash) {
        let message = format!("The provided 'x-amz-content-sha256' header does not match what was computed: {claimed}");
        return Err(reject("InvalidSignatureException", message));
    }
    let canonical =
        format!("{}\n{uri}\n{}\n{headers}\n{}\n{body_hash}", req.method, query.join("&"), auth.signed_headers);
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}", auth.scope(), hex(&Sha256::digest(canonical.as_bytes())));
    Ok((canonical, string_to_sign))
}

/// The hex signature of `string_to_sign` with the key derived from `secret` and the scope.
pub fn signature(secret: &str, auth: &Authorization, string_to_sign: &str) -> String {
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
    for part in [&auth.region, &auth.service, &auth.terminator] {
        key = hmac(&key, part.as_bytes());
    }
    hex(&hmac(&key, string_to_sign.as_bytes()))
}

/// The `Authorization` value that signs `req` (whose headers hold `x-amz-date`, and `host`) with
/// `credential` for `region` and `service`, signing the headers named in `signed_headers`
/// (lower case, sorted): what a correct client sends, for tests of the route.
pub fn authorization(
    req: &Request,
    credential: &Credential,
    region: &str,
    service: &str,
    signed_headers: &[&str],
    double_encode: bool,
) -> String {
    let amz_date = header(req.headers, "x-amz-date").unwrap_or("");
    let auth = Authorization {
        key_id: credential.key_id.to_string(),
        date: amz_date.get(..8).unwrap_or("").to_string(),
        region: region.to_string(),
        service: service.to_string(),
        terminator: "aws4_request".to_string(),
        signed_headers: signed_headers.join(";"),
        signature: String::new(),
    };
    let (_, string_to_sign) = canonical_request(req, &auth, amz_date, double_encode).expect("a consistent request");
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
        auth.key_id,
        auth.scope(),
        auth.signed_headers,
        signature(credential.secret, &auth, &string_to_sign)
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Every byte but the unreserved ones (and `/`, unless `slash` is to be encoded too) as `%XX`.
pub fn encode(bytes: &[u8], encode_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || (b == b'/' && !encode_slash) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `%XX` sequences as their bytes (others kept as they are).
pub fn decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex_at = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
        match (bytes[i], hex_at(i + 1), hex_at(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` as seconds since the Unix epoch.
pub fn parse_amz_date(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u64> {
        text.get(r).filter(|s| s.bytes().all(|c| c.is_ascii_digit())).and_then(|s| s.parse().ok())
    };
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year as i64, month as i64, day as i64);
    u64::try_from(days * 86_400 + (hour * 3600 + minute * 60 + second) as i64).ok()
}

/// Seconds since the Unix epoch as `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(seconds: u64) -> String {
    let (days, rest) = ((seconds / 86_400) as i64, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

// Howard Hinnant's days_from_civil and civil_from_days (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's SigV4 test suite (`aws4_testsuite`, as kept in awslabs/aws-c-auth's
    /// tests/aws-signing-test-suite/v4): its credential and time.
    const SUITE: &[Credential] = &[Credential {
        key_id: "AKIDEXAMPLE",
        secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token: None,
    }];
    const SUITE_DATE: &str = "20150830T123600Z";

    fn suite_rules() -> Rules<'static> {
        Rules { service: "service", credentials: SUITE, now: parse_amz_date(SUITE_DATE).unwrap(), double_encode: false }
    }

    fn headers(authorization: &str) -> Vec<(String, String)> {
        vec![
            ("host".into(), "example.amazonaws.com".into()),
            ("authorization".into(), authorization.into()),
            ("x-amz-date".into(), SUITE_DATE.into()),
        ]
    }

    const POST_VANILLA: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                                SignedHeaders=host;x-amz-date, \
                                Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b";

    #[test]
    fn the_aws_test_suite_vectors_verify() {
        // post-vanilla.
        let h = headers(POST_VANILLA);
        let req = Request { method: "POST", path: "/", query: None, headers: &h, body: b"" };
        assert_eq!(verify(&req, &suite_rules()), Ok(&SUITE[0]));
        // get-vanilla-query-order-key-case: the query's pairs are sorted.
        let h = headers(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        );
        let req =
            Request { method: "GET", path: "/", query: Some("Param2=value2&Param1=value1"), headers: &h, body: b"" };
        assert_eq!(verify(&req, &suite_rules()), Ok(&SUITE[0]));
        // The same request as GET, or with another signature, is refused.
        let h = headers(POST_VANILLA);
        let req = Request { method: "GET", path: "/", query: None, headers: &h, body: b"" };
        let refused = verify(&req, &suite_rules()).unwrap_err();
        assert_eq!((refused.status, refused.kind), (403, "InvalidSignatureException"));
        assert!(
            refused.message.starts_with("The request signature we calculated does not match"),
            "{}",
            refused.message
        );
        assert!(refused.message.contains("'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"));
        // The helper signer agrees with the vector.
        let h = headers("");
        let req = Request { method: "POST", path: "/", query: None, headers: &h, body: b"" };
        assert_eq!(
            authorization(&req, &SUITE[0], "us-east-1", "service", &["host", "x-amz-date"], false),
            POST_VANILLA
        );
    }

    const ARN_PATH: &str =
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude/converse";

    /// A request signed with `credential` at `date`, the body and the token as given.
    fn signed(credential: &Credential, date: &str, body: &[u8], token: Option<&str>) -> Vec<(String, String)> {
        let mut h = vec![
            ("host".to_string(), "bedrock-runtime.us-east-1.amazonaws.com".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
            ("x-amz-date".to_string(), date.to_string()),
        ];
        let mut names = vec!["content-type", "host", "x-amz-date"];
        if let Some(token) = token {
            h.push(("x-amz-security-token".to_string(), token.to_string()));
            names.push("x-amz-security-token");
        }
        let req = Request { method: "POST", path: ARN_PATH, query: None, headers: &h, body };
        let value = authorization(&req, credential, "us-east-1", "bedrock", &names, true);
        h.push(("authorization".to_string(), value));
        h
    }

    fn at(now: &str) -> Rules<'static> {
        Rules { now: parse_amz_date(now).unwrap(), ..Rules::bedrock() }
    }

    fn check(h: &[(String, String)], body: &[u8], now: &str) -> Result<&'static Credential, Rejection> {
        verify(&Request { method: "POST", path: ARN_PATH, query: None, headers: h, body }, &at(now))
    }

    #[test]
    fn the_path_is_encoded_once_more_as_botocore_does() {
        let h = signed(&CREDENTIALS[0], "20260301T100000Z", b"{}", None);
        let auth = Authorization::parse(&h[3].1).unwrap().unwrap();
        let req = Request { method: "POST", path: ARN_PATH, query: None, headers: &h, body: b"{}" };
        let (canonical, _) = canonical_request(&req, &auth, "20260301T100000Z", true).unwrap();
        assert!(
            canonical.starts_with(
                "POST\n/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253Ainference-profile%252Fus.anthropic.claude/converse\n\n"
            ),
            "{canonical}"
        );
        assert_eq!(encode("a b~/é".as_bytes(), false), "a%20b~/%C3%A9");
        assert_eq!(decode("a%3ab%2F%zz"), b"a:b/%zz");
    }

    #[test]
    fn signed_requests_pass_and_tampered_ones_do_not() {
        let body = br#"{"messages":[]}"#;
        let now = "20260301T100000Z";
        let h = signed(&CREDENTIALS[0], now, body, None);
        assert_eq!(check(&h, body, now), Ok(&CREDENTIALS[0]));
        assert_eq!(check(&h, body, "20260301T100459Z"), Ok(&CREDENTIALS[0]), "within five minutes");
        let h = signed(&CREDENTIALS[1], now, body, Some(SESSION_TOKEN));
        assert_eq!(check(&h, body, now), Ok(&CREDENTIALS[1]));

        let kind = |r: Result<&Credential, Rejection>| r.map(|c| c.key_id).map_err(|e| (e.status, e.kind));
        let invalid = Err((403, "InvalidSignatureException"));
        let unknown = Err((403, "UnrecognizedClientException"));
        // The body, the signature, a header's value, the date: each breaks the signature.
        let h = signed(&CREDENTIALS[0], now, body, None);
        assert_eq!(kind(check(&h, br#"{"messages":[1]}"#, now)), invalid);
        let mut tampered = h.clone();
        let last = tampered[3].1.pop().unwrap();
        tampered[3].1.push(if last == '0' { '1' } else { '0' });
        assert_eq!(kind(check(&tampered, body, now)), invalid);
        let mut tampered = h.clone();
        tampered[1].1 = "application/json; charset=utf-8".into();
        assert_eq!(kind(check(&tampered, body, now)), invalid);
        let mut tampered = h.clone();
        tampered[2].1 = "20260301T100001Z".into();
        assert_eq!(kind(check(&tampered, body, now)), invalid);
        // Trimmed and folded header values sign the same.
        let mut spaced = h.clone();
        spaced[1].1 = "  application/json ".into();
        assert_eq!(kind(check(&spaced, body, now)), Ok(KEY_ID));
        // Too old, too new.
        let expired = check(&h, body, "20260301T100501Z").unwrap_err();
        assert_eq!(
            expired.message,
            "Signature expired: 20260301T100000Z is now earlier than 20260301T100001Z (20260301T100501Z - 5 min.)"
        );
        let early = check(&h, body, "20260301T095459Z").unwrap_err();
        assert!(early.message.starts_with("Signature not yet current: 20260301T100000Z is still later than"));
        // Unknown key, a wrong secret, a missing or wrong session token, a token not asked for.
        let stranger = Credential { key_id: "AKIDSTRANGER", secret: SECRET, session_token: None };
        assert_eq!(kind(check(&signed(&stranger, now, body, None), body, now)), unknown);
        let wrong_secret = Credential { secret: "not/the/secret", ..CREDENTIALS[0] };
        assert_eq!(kind(check(&signed(&wrong_secret, now, body, None), body, now)), invalid);
        assert_eq!(kind(check(&signed(&CREDENTIALS[1], now, body, None), body, now)), unknown);
        assert_eq!(kind(check(&signed(&CREDENTIALS[1], now, body, Some("other")), body, now)), unknown);
        assert_eq!(kind(check(&signed(&CREDENTIALS[0], now, body, Some(SESSION_TOKEN)), body, now)), unknown);
        // The scope's service, host and date signed.
        let h = signed(&CREDENTIALS[0], now, body, None);
        let mut other_service = h.clone();
        other_service[3].1 = other_service[3].1.replace("/bedrock/", "/s3/");
        let refused = check(&other_service, body, now).unwrap_err();
        assert_eq!(refused.message, "Credential should be scoped to correct service: 'bedrock'. ");
        let mut unsigned_host = h.clone();
        unsigned_host[3].1 = unsigned_host[3].1.replace("content-type;host;x-amz-date", "content-type;x-amz-date");
        assert!(check(&unsigned_host, body, now).unwrap_err().message.contains("'Host' must be a 'SignedHeader'"));
        let mut no_token_signed = signed(&CREDENTIALS[0], now, body, None);
        no_token_signed.push(("x-amz-security-token".into(), SESSION_TOKEN.into()));
        assert!(check(&no_token_signed, body, now).unwrap_err().message.contains("'X-Amz-Security-Token' must be"));
        let mut bad_scope = h.clone();
        bad_scope[3].1 = bad_scope[3].1.replace("/20260301/", "/20260302/");
        assert!(check(&bad_scope, body, now).unwrap_err().message.contains("'20260302' != '20260301'"));
        let mut garbled = h.clone();
        garbled[3].1 = "AWS4-HMAC-SHA256 Credential=AKIDTESTBEDROCK/20260301/us-east-1/bedrock/aws4_request".into();
        let refused = check(&garbled, body, now).unwrap_err();
        assert_eq!(refused.kind, "IncompleteSignatureException");
        assert!(refused.message.contains("requires 'Signature' parameter"), "{}", refused.message);
    }

    #[test]
    fn amz_dates_read_and_write() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(format_amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(format_amz_date(parse_amz_date("20240229T235959Z").unwrap() + 1), "20240301T000000Z");
        for bad in ["20150830T123600", "2015-08-30T12:36:00Z", "20151330T123600Z", "2015083OT123600Z"] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }
}
