//! TLS through the system OpenSSL, configured from the `tls-*` directives the way
//! redis 7.0.15 configures its own contexts: one server context (also used for outbound
//! links when no client certificate is set) and an optional client context, both
//! verifying the peer against the CA (no hostname check, no SNI), with redis' protocol,
//! cipher, session-cache and DH settings. Errors are redis' start-up log lines.
//!
//! The streams themselves are `tokio_openssl::SslStream`s; [`TlsContexts::accept`] and
//! [`TlsContexts::connect`] run the handshakes and turn OpenSSL's errors into redis'
//! texts.

use crate::config::{TlsAuthClients, TlsConfig};
use openssl::dh::Dh;
use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslSessionCacheMode,
    SslVerifyMode,
};
use std::ffi::{CString, c_char, c_int, c_long, c_void};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

// Entry points of libssl/libcrypto that the `openssl-sys` bindings leave out (the
// library is linked through `openssl-sys`).
unsafe extern "C" {
    fn ERR_error_string_n(e: std::ffi::c_ulong, buf: *mut c_char, len: usize);
    fn SSL_CTX_set_default_passwd_cb(
        ctx: *mut openssl_sys::SSL_CTX,
        cb: openssl_sys::pem_password_cb,
    );
    fn SSL_CTX_set_default_passwd_cb_userdata(ctx: *mut openssl_sys::SSL_CTX, u: *mut c_void);
    fn SSL_CTX_set_timeout(ctx: *mut openssl_sys::SSL_CTX, t: c_long) -> c_long;
}

/// The contexts built from the config, shared by the listener and the links.
pub struct TlsContexts {
    server: SslContext,
    client: Option<SslContext>,
    auth_clients: TlsAuthClients,
}

impl std::fmt::Debug for TlsContexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsContexts")
            .field("client_cert", &self.client.is_some())
            .field("auth_clients", &self.auth_clients)
            .finish()
    }
}

/// A TLS stream over TCP, as both sides use it.
pub type TlsStream = SslStream<TcpStream>;

/// OpenSSL's one-line text of an error code (`error:0A0000C7:SSL routines::...`), what
/// redis logs with `ERR_error_string_n`.
pub fn error_string(code: std::ffi::c_ulong) -> String {
    let mut buf = [0 as c_char; 256];
    // SAFETY: the buffer is valid for its length; OpenSSL NUL-terminates within it.
    unsafe {
        ERR_error_string_n(code, buf.as_mut_ptr(), buf.len());
        std::ffi::CStr::from_ptr(buf.as_ptr())
            .to_string_lossy()
            .into_owned()
    }
}

fn first_error(stack: &openssl::error::ErrorStack) -> String {
    stack
        .errors()
        .first()
        .map(|e| error_string(e.code()))
        .unwrap_or_else(|| error_string(0))
}

/// Supplies the key passphrase stored in the context's user data (like redis'
/// `tlsPasswordCallback`: no passphrase configured means "fail", never a prompt).
unsafe extern "C" fn password_cb(
    buf: *mut c_char,
    size: c_int,
    _rwflag: c_int,
    user: *mut c_void,
) -> c_int {
    if user.is_null() {
        return -1;
    }
    // SAFETY: `user` is the NUL-terminated passphrase set just before the key is read.
    let pass = unsafe { std::ffi::CStr::from_ptr(user as *const c_char) }.to_bytes();
    if pass.len() > size as usize {
        return -1;
    }
    // SAFETY: OpenSSL hands a buffer of `size` bytes; `pass` fits in it.
    unsafe { std::ptr::copy_nonoverlapping(pass.as_ptr() as *const c_char, buf, pass.len()) };
    pass.len() as c_int
}

const PROTO_TLS1: u8 = 1;
const PROTO_TLS1_1: u8 = 2;
const PROTO_TLS1_2: u8 = 4;
const PROTO_TLS1_3: u8 = 8;

/// `tls-protocols`: space-separated names, case-insensitive; unset means TLSv1.2+1.3.
fn parse_protocols(s: Option<&str>) -> Result<u8, String> {
    let Some(s) = s else {
        return Ok(PROTO_TLS1_2 | PROTO_TLS1_3);
    };
    let mut out = 0;
    // sdssplitlen on " ": empty tokens between repeated spaces are invalid names too.
    for tok in s.split(' ') {
        out |= match tok.to_ascii_lowercase().as_str() {
            "tlsv1" => PROTO_TLS1,
            "tlsv1.1" => PROTO_TLS1_1,
            "tlsv1.2" => PROTO_TLS1_2,
            "tlsv1.3" => PROTO_TLS1_3,
            _ => {
                return Err("Invalid tls-protocols specified. Use a combination of \
                            'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'."
                    .to_string());
            }
        };
    }
    Ok(out)
}

/// The part common to the server and the client context (redis' `createSSLContext`).
fn base_context(
    cfg: &TlsConfig,
    protocols: u8,
    cert: &str,
    key: &str,
    pass: Option<&str>,
) -> Result<SslContextBuilder, String> {
    let mut b = SslContextBuilder::new(SslMethod::tls()).map_err(|e| first_error(&e))?;
    let mut opts = SslOptions::NO_SSLV2 | SslOptions::NO_SSLV3 | SslOptions::NO_COMPRESSION;
    opts |= SslOptions::DONT_INSERT_EMPTY_FRAGMENTS;
    for (bit, no) in [
        (PROTO_TLS1, SslOptions::NO_TLSV1),
        (PROTO_TLS1_1, SslOptions::NO_TLSV1_1),
        (PROTO_TLS1_2, SslOptions::NO_TLSV1_2),
        (PROTO_TLS1_3, SslOptions::NO_TLSV1_3),
    ] {
        if protocols & bit == 0 {
            opts |= no;
        }
    }
    b.set_options(opts);
    b.set_mode(SslMode::ENABLE_PARTIAL_WRITE | SslMode::ACCEPT_MOVING_WRITE_BUFFER);
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);

    let pass_c = pass.map(|p| CString::new(p).unwrap_or_default());
    // SAFETY: the callback only reads the user data, which outlives the two loads
    // below and is cleared right after them.
    unsafe {
        SSL_CTX_set_default_passwd_cb(b.as_ptr(), Some(password_cb));
        SSL_CTX_set_default_passwd_cb_userdata(
            b.as_ptr(),
            pass_c
                .as_ref()
                .map_or(std::ptr::null_mut(), |c| c.as_ptr() as *mut c_void),
        );
    }
    let loaded = load_pair(&mut b, cert, key);
    // SAFETY: resets the user data so the context never points at freed memory.
    unsafe { SSL_CTX_set_default_passwd_cb_userdata(b.as_ptr(), std::ptr::null_mut()) };
    loaded?;

    if cfg.ca_cert_file.is_some() || cfg.ca_cert_dir.is_some() {
        b.load_verify_locations(
            cfg.ca_cert_file.as_deref().map(Path::new),
            cfg.ca_cert_dir.as_deref().map(Path::new),
        )
        .map_err(|e| {
            format!(
                "Failed to configure CA certificate(s) file/directory: {}",
                first_error(&e)
            )
        })?;
    }
    if let Some(c) = &cfg.ciphers {
        b.set_cipher_list(c)
            .map_err(|_| format!("Failed to configure ciphers: {c}"))?;
    }
    if let Some(c) = &cfg.ciphersuites {
        b.set_ciphersuites(c)
            .map_err(|_| format!("Failed to configure ciphersuites: {c}"))?;
    }
    Ok(b)
}

fn load_pair(b: &mut SslContextBuilder, cert: &str, key: &str) -> Result<(), String> {
    b.set_certificate_chain_file(cert)
        .map_err(|e| format!("Failed to load certificate: {cert}: {}", first_error(&e)))?;
    let key_c = CString::new(key).map_err(|_| format!("Failed to load private key: {key}"))?;
    // SAFETY: plain call on a live context with a NUL-terminated path.
    let ok = unsafe {
        openssl_sys::SSL_CTX_use_PrivateKey_file(
            b.as_ptr(),
            key_c.as_ptr(),
            openssl_sys::SSL_FILETYPE_PEM,
        )
    };
    if ok <= 0 {
        let stack = openssl::error::ErrorStack::get();
        return Err(format!(
            "Failed to load private key: {key}: {}",
            first_error(&stack)
        ));
    }
    Ok(())
}

impl TlsContexts {
    /// Builds the contexts like redis' `tlsConfigure`; the error is the line redis logs
    /// before "Failed to configure TLS. Check logs for more info.".
    pub fn configure(cfg: &TlsConfig) -> Result<Arc<TlsContexts>, String> {
        let Some(cert) = cfg.cert_file.as_deref() else {
            return Err("No tls-cert-file configured!".to_string());
        };
        let Some(key) = cfg.key_file.as_deref() else {
            return Err("No tls-key-file configured!".to_string());
        };
        if (cfg.auth_clients != TlsAuthClients::No || cfg.cluster || cfg.replication)
            && cfg.ca_cert_file.is_none()
            && cfg.ca_cert_dir.is_none()
        {
            return Err(
                "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when \
                        tls-cluster, tls-replication or tls-auth-clients are enabled!"
                    .to_string(),
            );
        }
        let protocols = parse_protocols(cfg.protocols.as_deref())?;
        let mut b = base_context(cfg, protocols, cert, key, cfg.key_file_pass.as_deref())?;
        if cfg.session_caching {
            b.set_session_cache_mode(SslSessionCacheMode::SERVER);
            b.set_session_cache_size(cfg.session_cache_size.min(i32::MAX as u64) as i32);
            // SAFETY: plain setter on a live context.
            unsafe { SSL_CTX_set_timeout(b.as_ptr(), cfg.session_cache_timeout as c_long) };
            b.set_session_id_context(b"redis")
                .map_err(|e| first_error(&e))?;
        } else {
            b.set_session_cache_mode(SslSessionCacheMode::OFF);
        }
        b.set_options(SslOptions::NO_RENEGOTIATION | SslOptions::SINGLE_DH_USE);
        if cfg.prefer_server_ciphers {
            b.set_options(SslOptions::CIPHER_SERVER_PREFERENCE);
        }
        match &cfg.dh_params_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    format!("Failed to load {path}: {}", crate::config::strerror(&e))
                })?;
                let dh = Dh::params_from_pem(&pem)
                    .map_err(|_| format!("{path}: failed to read DH params."))?;
                b.set_tmp_dh(&dh).map_err(|e| {
                    format!("Failed to load DH params file: {path}: {}", first_error(&e))
                })?;
            }
            None => {
                // SAFETY: plain setter on a live context.
                unsafe { openssl_sys::SSL_CTX_set_dh_auto(b.as_ptr(), 1) };
            }
        }
        let client = match (&cfg.client_cert_file, &cfg.client_key_file) {
            (Some(c), Some(k)) => Some(
                base_context(cfg, protocols, c, k, cfg.client_key_file_pass.as_deref())?.build(),
            ),
            _ => None,
        };
        Ok(Arc::new(TlsContexts {
            server: b.build(),
            client,
            auth_clients: cfg.auth_clients,
        }))
    }

    /// Server side of a client connection on `tls-port`. The error is what redis logs
    /// after "Error accepting a client connection: ".
    pub async fn accept(&self, tcp: TcpStream) -> Result<TlsStream, String> {
        let mut ssl = Ssl::new(&self.server).map_err(|e| first_error(&e))?;
        match self.auth_clients {
            TlsAuthClients::No => ssl.set_verify(SslVerifyMode::NONE),
            TlsAuthClients::Optional => ssl.set_verify(SslVerifyMode::PEER),
            TlsAuthClients::Yes => {}
        }
        let mut s = SslStream::new(ssl, tcp).map_err(|e| first_error(&e))?;
        Pin::new(&mut s)
            .accept()
            .await
            .map_err(|e| ssl_error_text(&e))?;
        Ok(s)
    }

    /// Client side of an outbound link: the client certificate when one is configured,
    /// the server's otherwise; the peer is checked against the CA, not its name.
    pub async fn connect(&self, tcp: TcpStream) -> Result<TlsStream, String> {
        let ctx = self.client.as_ref().unwrap_or(&self.server);
        let ssl = Ssl::new(ctx).map_err(|e| first_error(&e))?;
        let mut s = SslStream::new(ssl, tcp).map_err(|e| first_error(&e))?;
        Pin::new(&mut s)
            .connect()
            .await
            .map_err(|e| ssl_error_text(&e))?;
        Ok(s)
    }
}

/// `ERR_PACK(ERR_LIB_SSL, 0, SSL_R_UNEXPECTED_EOF_WHILE_READING)`.
const UNEXPECTED_EOF: std::ffi::c_ulong = 0x0A00_0126;

/// A failed handshake as redis reports it: OpenSSL's first queued error, else the
/// system error, else OpenSSL's unexpected-EOF text.
fn ssl_error_text(e: &openssl::ssl::Error) -> String {
    if let Some(stack) = e.ssl_error()
        && !stack.errors().is_empty()
    {
        return first_error(stack);
    }
    match e.io_error() {
        Some(io) => crate::config::strerror(io),
        // The peer closed mid-handshake: OpenSSL 3 (which redis sees through its
        // socket BIO) reports SSL_R_UNEXPECTED_EOF_WHILE_READING.
        None => error_string(UNEXPECTED_EOF),
    }
}
