//! A loopback Bedrock for bench scripts: `loopback-bedrock [--port N]` prints its URL as
//! the first line of stdout, then serves default replies (any credentials) until killed.
//! `GET /__admin/requests` lists what it has received.

use claude_test_support::bedrock::Reply;
use claude_test_support::{BedrockOptions, BedrockServer};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut port = 0;
    let mut long_reply_words = 0usize;
    let mut tool_turns = 0usize;
    while let Some(arg) = args.next() {
        let (name, value) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), args.next()),
        };
        match name.as_str() {
            "--port" => {
                port = match value.as_deref().map(str::parse) {
                    Some(Ok(p)) => p,
                    _ => usage("--port needs a number from 0 to 65535"),
                }
            }
            "--long-reply" => {
                long_reply_words = match value.as_deref().map(str::parse) {
                    Some(Ok(n)) => n,
                    _ => usage("--long-reply needs a number of words"),
                }
            }
            "--tool-turns" => {
                tool_turns = match value.as_deref().map(str::parse) {
                    Some(Ok(n)) => n,
                    _ => usage("--tool-turns needs a number of turns"),
                }
            }
            _ => usage(&format!("unknown argument {arg}")),
        }
    }
    let server = BedrockServer::start(BedrockOptions {
        port,
        ..BedrockOptions::default()
    });
    if long_reply_words > 0 {
        // One long streamed reply per request (two words per text delta), for
        // measuring streaming throughput.
        let text = "lorem ipsum ".repeat(long_reply_words / 2);
        for _ in 0..20 {
            server.push(Reply::text(text.clone()));
        }
    }
    if tool_turns > 0 {
        // Scripted runs for measuring the tool loop: each run is `tool_turns`
        // replies calling the cheap TaskList tool, then a text reply.
        for run in 0..20 {
            for turn in 0..tool_turns {
                server.push(Reply::ToolUse {
                    text: None,
                    tools: vec![(
                        format!("toolu_bench_{run}_{turn}"),
                        "TaskList".into(),
                        serde_json::json!({}),
                    )],
                    usage: claude_test_support::Usage {
                        input: 12,
                        output: 8,
                        cache_read: 0,
                        cache_write: 0,
                    },
                });
            }
            server.push(Reply::text("done"));
        }
    }
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
        eprintln!(
            "loopback-bedrock: {problem}\nusage: loopback-bedrock [--port N] [--long-reply WORDS] [--tool-turns N]"
        );
    }
    std::process::exit(2);
}
