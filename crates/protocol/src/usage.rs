use serde::{Deserialize, Serialize};

/// Token usage for one request, in the Messages API's field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    #[serde(default)]
    pub cache_read_input_tokens: u64,
}

impl Usage {
    /// Folds a later report into this one. Stream counts are cumulative, so
    /// a non-zero later value replaces the earlier one.
    pub fn merge(&mut self, later: &Usage) {
        fn take(dst: &mut u64, src: u64) {
            if src != 0 {
                *dst = src;
            }
        }
        take(&mut self.input_tokens, later.input_tokens);
        take(&mut self.output_tokens, later.output_tokens);
        take(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        take(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
    }

    pub fn total(&self) -> u64 {
        self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
    }
}

/// Bedrock's own accounting, attached to `message_stop`. This is what
/// Bedrock bills, so it wins over the model's `usage` when both exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationMetrics {
    #[serde(default)]
    pub input_token_count: u64,
    #[serde(default)]
    pub output_token_count: u64,
    #[serde(default)]
    pub invocation_latency: u64,
    #[serde(default)]
    pub first_byte_latency: u64,
    #[serde(default)]
    pub cache_read_input_token_count: u64,
    #[serde(default)]
    pub cache_write_input_token_count: u64,
}

impl InvocationMetrics {
    pub fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.input_token_count,
            output_tokens: self.output_token_count,
            cache_creation_input_tokens: self.cache_write_input_token_count,
            cache_read_input_tokens: self.cache_read_input_token_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_earlier_values_where_later_is_zero() {
        let mut u = Usage {
            input_tokens: 12,
            output_tokens: 2,
            cache_read_input_tokens: 5,
            ..Default::default()
        };
        u.merge(&Usage {
            output_tokens: 100,
            ..Default::default()
        });
        assert_eq!(u.input_tokens, 12);
        assert_eq!(u.output_tokens, 100);
        assert_eq!(u.cache_read_input_tokens, 5);
        assert_eq!(u.total(), 117);
    }

    #[test]
    fn invocation_metrics_parse_from_bedrock_names() {
        let m: InvocationMetrics = serde_json::from_str(
            r#"{"inputTokenCount":12,"outputTokenCount":100,"invocationLatency":3592,"firstByteLatency":1019}"#,
        )
        .unwrap();
        assert_eq!(m.usage().output_tokens, 100);
        assert_eq!(m.first_byte_latency, 1019);
    }
}
