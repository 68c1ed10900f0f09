//! Bedrock's token-count headers on InvokeModel are not in the service model,
//! so the SDK drops them; this interceptor reads them off the raw response.

use std::sync::Mutex;

use aws_sdk_bedrockruntime::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_bedrockruntime::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use claude_protocol::Usage;

#[derive(Debug, Default)]
pub struct Captured(Mutex<Usage>);

impl Captured {
    pub fn usage(&self) -> Usage {
        self.0.lock().map(|u| *u).unwrap_or_default()
    }
}

#[derive(Debug)]
pub struct CaptureHeaders(pub std::sync::Arc<Captured>);

impl Intercept for CaptureHeaders {
    fn name(&self) -> &'static str {
        "CaptureBedrockTokenHeaders"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.response().headers();
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        if let Ok(mut u) = self.0.0.lock() {
            *u = Usage {
                input_tokens: num("x-amzn-bedrock-input-token-count"),
                output_tokens: num("x-amzn-bedrock-output-token-count"),
                cache_read_input_tokens: num("x-amzn-bedrock-cache-read-input-token-count"),
                cache_creation_input_tokens: num("x-amzn-bedrock-cache-write-input-token-count"),
            };
        }
        Ok(())
    }
}
