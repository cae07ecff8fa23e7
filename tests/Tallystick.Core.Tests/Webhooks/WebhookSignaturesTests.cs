using System.Text;
using Tallystick.Webhooks;

namespace Tallystick.Core.Tests.Webhooks;

// Goal: the server signs deliveries exactly as the published schemes define them, so any receiver library verifies
// them. Method: the Standard Webhooks sign vector (test-vectors.md §3.1), the stripe-dotnet t=…,v1=… fixture (§4.1,
// the PacSpace compact form) and stripe-node's raw HMAC vectors (§4.2), computed through WebhookSignatures.
public sealed class WebhookSignaturesTests
{
    [Fact]
    public void Standard_PublishedSignVector_Matches()
    {
        var signature = WebhookSignatures.Standard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", """{"test": 2432232314}"""u8);

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public void StandardKey_DecodesAfterPrefix()
    {
        Assert.Equal("31f290f6bf06298aab4f08d43c3f082cf648a362da2da4b0",
            Convert.ToHexStringLower(WebhookSignatures.StandardKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!));
        Assert.Null(WebhookSignatures.StandardKey("whsec_not base64!"));
    }

    [Fact]
    public void PacSpace_StripeDotnetFixture_MatchesV1()
    {
        var body = Encoding.UTF8.GetBytes("""
            {
              "id": "evt_123",
              "object": "event",
              "account": "acct_123",
              "api_version": "2017-05-25",
              "created": 1533204620,
              "data": {
                "object": {
                  "id": "cus_123",
                  "object": "customer",
                  "created": 123456789,
                  "email": "test@stripe.com",
                  "livemode": false,
                  "metadata": {}
                }
              },
              "livemode": false,
              "pending_webhooks": 1,
              "request": {
                "id": "req_123",
                "idempotency_key": "idempotency-key-123"
              },
              "type": "customer.created"
            }
            """.ReplaceLineEndings("\n") + "\n");

        Assert.Equal(484, body.Length);
        Assert.Equal("v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7",
            WebhookSignatures.PacSpace("webhook_secret", "1533204620", body));
        Assert.NotEqual("v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7",
            WebhookSignatures.PacSpace("webhook_secret", "1533204620", body.AsSpan(..^1)));
    }

    [Theory]
    [InlineData("", "f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd")]
    [InlineData("""{"obj1":"hello","obj2":"world"}""", "bebb1a643997f419b315ddba19e6f5411e1ce7f810ba6d3617ce72823092f363")]
    [InlineData("\U0001F600", "837da296d05c4fe31f61d5d7ead035099d9585a5bcde87de952012a78f0b0c43")]
    public void Hmac_StripeNodeVectors_Match(string payload, string expected)
    {
        Assert.Equal(expected, Convert.ToHexStringLower(
            WebhookSignatures.Hmac(WebhookSignatures.PacSpaceKey("test_secret"), [], Encoding.UTF8.GetBytes(payload))));
    }

    [Fact]
    public void GenerateSecret_IsPrefixedBase64Of32Bytes()
    {
        var secret = WebhookSignatures.GenerateSecret();

        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, WebhookSignatures.StandardKey(secret)!.Length);
        Assert.NotEqual(secret, WebhookSignatures.GenerateSecret());
    }
}
