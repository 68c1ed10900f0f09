//! `claude pricing`: the price table in use, per 1M tokens and (as the
//! Bedrock guide quotes them) per 1K tokens.

use claude_config::Config;
use claude_usage::{PriceSource, Pricing};
use serde_json::json;

use crate::cost_cmd::table;

pub fn run(cfg: &Config, json_out: bool, model: Option<&str>) -> anyhow::Result<i32> {
    let provider = cfg.provider().as_str();
    let rows: Vec<_> = Pricing::from_config(cfg)
        .table(provider)
        .into_iter()
        .filter(|r| {
            model.is_none_or(|m| {
                r.model_id.contains(m) || r.name.to_lowercase().contains(&m.to_lowercase())
            })
        })
        .collect();
    if json_out {
        let list: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "model_id": r.model_id,
                    "name": r.name,
                    "source": r.source,
                    "usd_per_million_tokens": {
                        "input": r.prices.input,
                        "output": r.prices.output,
                        "cache_write_5m": r.prices.cache_write_5m,
                        "cache_write_1h": r.prices.cache_write_1h,
                        "cache_read": r.prices.cache_read,
                    },
                    "usd_per_thousand_tokens": {
                        "input": r.prices.input / 1000.0,
                        "output": r.prices.output / 1000.0,
                    },
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"provider": provider, "models": list}))?
        );
        return Ok(0);
    }
    if rows.is_empty() {
        eprintln!(
            "claude: no model matches `{}`; `claude pricing` lists them all.",
            model.unwrap_or_default()
        );
        return Ok(1);
    }
    let per_m = |p: f64| {
        format!("{p:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    };
    let per_k = |p: f64| {
        format!("{:.8}", p / 1000.0)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.model_id.clone(),
                r.name.clone(),
                per_m(r.prices.input),
                per_m(r.prices.output),
                per_m(r.prices.cache_write_5m),
                r.prices.cache_write_1h.map_or("–".into(), per_m),
                per_m(r.prices.cache_read),
                per_k(r.prices.input),
                per_k(r.prices.output),
                match r.source {
                    PriceSource::Catalog => "built-in".into(),
                    PriceSource::Override => "pricing.overrides".into(),
                },
            ]
        })
        .collect();
    let headers = [
        "Model ID",
        "Model",
        "In $/1M",
        "Out $/1M",
        "Write 5m $/1M",
        "Write 1h $/1M",
        "Read $/1M",
        "In $/1K",
        "Out $/1K",
        "Source",
    ];
    let right: Vec<bool> = (0..headers.len()).map(|i| (2..9).contains(&i)).collect();
    print!("{}", table(&headers, &cells, &right));
    println!(
        "\nUSD, {provider} list prices. Geographic (us., eu., jp., au., apac.) and in-region IDs of 4.5-generation and later models cost 10% more than global.; us-gov. 20%. Replace any row with `claude config set pricing.overrides '{{\"<model id>\": {{\"input\": 3, \"output\": 15}}}}'`."
    );
    Ok(0)
}
