//! The `wsloop` binary: parse flags, set up logging, serve the demo protocols and `--www`
//! (over TLS with `--tls-cert`/`--tls-key`, topics through Redis with `--redis`) until
//! SIGINT/SIGTERM.

#![forbid(unsafe_code)]

mod cli;

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let options = match cli::parse(std::env::args().skip(1)) {
        Ok(cli::Command::Serve(options)) => options,
        Ok(cli::Command::Help) => {
            print!("{}", cli::help());
            return ExitCode::SUCCESS;
        }
        Ok(cli::Command::Version) => {
            println!("wsloop {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("wsloop: {message}");
            return ExitCode::from(2);
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    // A panic inside a protocol callback is reported by wsloop itself (a log line naming the
    // protocol and the message) and costs that one connection: here only where it happened.
    // Any other panic is reported as usual.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if wsloop::protocol::in_protocol_callback() {
            let place = info.location().map(|l| l.to_string()).unwrap_or_default();
            log::debug!("protocol callback panicked at {place}");
        } else {
            default_hook(info);
        }
    }));

    if options.threads != 1 {
        return run_loops(*options);
    }
    let server = wsloop::Server::bind(options.addr, options.config, wsloop::demo::table())
        .map_err(|err| format!("cannot listen on {}: {err}", options.addr))
        .and_then(|server| {
            server
                .serve_files(&options.www)
                .map_err(|err| err.to_string())
        })
        .and_then(|server| with_tls(server, options.tls.as_ref()));
    let server = match server {
        Ok(server) => server,
        Err(message) => {
            eprintln!("wsloop: {message}");
            return ExitCode::FAILURE;
        }
    };
    // Scripts and tests read this line to learn the port (with --port 0); it is printed only
    // once SIGTERM/SIGINT are handled, so a supervisor may signal as soon as it sees it.
    let announce = |server: &wsloop::Server| {
        let scheme = if serves_tls(server) { "https" } else { "http" };
        println!("listening on {scheme}://{}/", server.local_addr());
        let _ = std::io::stdout().flush();
    };
    let bus = bus(options.redis.as_ref(), server.config());
    let served = match bus {
        Ok(Some(bus)) => server.run_on_bus(bus, announce),
        Ok(None) => server.run_with(announce),
        Err(message) => {
            eprintln!("wsloop: {message}");
            return ExitCode::from(2);
        }
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wsloop: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Serve TLS with the files of `--tls-cert`/`--tls-key`, if given (an error names the file).
fn with_tls(
    server: wsloop::Server,
    tls: Option<&wsloop::TlsFiles>,
) -> Result<wsloop::Server, String> {
    match tls {
        #[cfg(feature = "tls")]
        Some(files) => server
            .with_tls_files(&files.cert, &files.key)
            .map_err(|err| err.to_string()),
        // cli::parse refuses the flags in a build without TLS.
        #[cfg(not(feature = "tls"))]
        Some(_) => Err("built without TLS".into()),
        None => Ok(server),
    }
}

fn serves_tls(server: &wsloop::Server) -> bool {
    #[cfg(feature = "tls")]
    return server.serves_tls();
    #[cfg(not(feature = "tls"))]
    {
        let _ = server;
        false
    }
}

/// The Redis bridge of `--redis`, if given (an error is a URL that does not parse).
fn bus(
    redis: Option<&cli::RedisTarget>,
    config: &wsloop::Config,
) -> Result<Option<std::sync::Arc<dyn wsloop::Bus>>, String> {
    match redis {
        #[cfg(feature = "redis")]
        Some(target) => wsloop::RedisBus::start(&target.url, &target.prefix, config)
            .map(|bus| Some(std::sync::Arc::new(bus) as std::sync::Arc<dyn wsloop::Bus>))
            .map_err(|err| err.to_string()),
        // cli::parse refuses --redis in a build without it.
        #[cfg(not(feature = "redis"))]
        Some(_) => Err("built without Redis".into()),
        None => {
            let _ = config;
            Ok(None)
        }
    }
}

/// `--threads N` (N != 1): N loops on one port, each with its own demo table.
fn run_loops(options: cli::Options) -> ExitCode {
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let mut loops = wsloop::Loops::new(options.addr, options.config)
        .threads(options.threads)
        .www(options.www);
    if let Some(files) = options.tls {
        loops = loops.tls(files);
    }
    let count = loops.count();
    let announce = |addr| {
        log::info!("{count} event loops on one port");
        println!("listening on {scheme}://{addr}/");
        let _ = std::io::stdout().flush();
    };
    let bus = match bus(options.redis.as_ref(), loops.config()) {
        Ok(bus) => bus.unwrap_or_else(|| std::sync::Arc::new(wsloop::LocalBus::new())),
        Err(message) => {
            eprintln!("wsloop: {message}");
            return ExitCode::from(2);
        }
    };
    match loops.run_on(bus, wsloop::demo::table, announce) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wsloop: {err}");
            ExitCode::FAILURE
        }
    }
}
