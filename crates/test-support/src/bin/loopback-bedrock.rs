//! A loopback Bedrock for bench scripts: `loopback-bedrock [--port N]` prints its URL as
//! the first line of stdout, then serves default replies (any credentials) until killed.
//! `GET /__admin/requests` lists what it has received.

use claude_test_support::{BedrockOptions, BedrockServer};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut port = 0;
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--port=") {
            Some(v) => Some(v.to_owned()),
            None if arg == "--port" => args.next(),
            None => usage(&format!("unknown argument {arg}")),
        };
        port = match value.as_deref().map(str::parse) {
            Some(Ok(p)) => p,
            _ => usage("--port needs a number from 0 to 65535"),
        };
    }
    let server = BedrockServer::start(BedrockOptions {
        port,
        ..BedrockOptions::default()
    });
    #[allow(clippy::print_stdout)]
    {
        println!("{}", server.url());
    }
    loop {
        std::thread::park();
    }
}

fn usage(problem: &str) -> ! {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("loopback-bedrock: {problem}\nusage: loopback-bedrock [--port N]");
    }
    std::process::exit(2);
}
