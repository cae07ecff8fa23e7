using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Tallystick.Client.Tests;

// Goal: genuine deliveries pass and everything else fails, for both schemes, on published vectors.
// Method: the Standard Webhooks sign vector and its verification cases (test-vectors.md §3.1), the stripe-dotnet
// t=…,v1=… fixture (§4.1) through the Pacspace-Signature form, raw HMAC vectors (§4.2, RFC 4231 §4), and PacSpace
// X-PacSpace-Signature goldens computed with Python's hmac as the oracle. The clock is a FakeTimeProvider.
public sealed class WebhookVerifierTests
{
    // Standard Webhooks §3.1.
    private const string StandardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string StandardId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long StandardTimestamp = 1614265330;
    private const string StandardSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    private static readonly byte[] StandardBody = Encoding.UTF8.GetBytes("""{"test": 2432232314}""");

    // PacSpace goldens: hex(HMAC-SHA256(key = UTF-8 "whsec_test", "{timestamp}.{body}")), computed with Python hmac.
    private const string PacSpaceSecret = "whsec_test";
    private const string PacSpaceTimestampMs = "1739270400000";
    private const string PacSpaceSignatureMs = "03b62aae620e852199f4d3baac13359d7021bdc08d772777a89882521c46fe7a";
    private const string PacSpaceSignatureSeconds = "8d2ab76f863c13d6d10d5f82e5a3f37e0d34eab4a80d41bebae3fb642e26e304";
    private const string PreviousSecret = "whsec_previous";
    private const string PreviousSignatureMs = "150ee3ac341f6da9c91a178fcd96c0415d99111ac7c730cf3353f4b80af4abad";
    private static readonly byte[] PacSpaceBody =
        Encoding.UTF8.GetBytes("""{"event":"delta.verified","data":{"recordId":"rec_1"}}""");

    // stripe-dotnet §4.1: secret, timestamp, header and the exact 484-byte fixture (LF, trailing newline).
    private const string StripeSecret = "webhook_secret";
    private const long StripeTimestamp = 1533204620;
    private const string StripeHeader = "t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7," +
        "v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef";
    private static readonly byte[] StripeBody = Encoding.UTF8.GetBytes("""
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

    [Theory]
    [InlineData(StandardSecret)]
    [InlineData("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    public void Standard_PublishedVector_Verified(string secret)
    {
        var verifier = new WebhookVerifier(secret, At(StandardTimestamp));

        Assert.Equal(WebhookVerificationStatus.Verified, verifier.VerifyStandard(StandardId,
            StandardTimestamp.ToString(), StandardSignature, StandardBody));
    }

    [Fact]
    public void Standard_SignVector_RawHmacAndHeaderMatch()
    {
        var key = Convert.FromHexString("31f290f6bf06298aab4f08d43c3f082cf648a362da2da4b0");

        var mac = WebhookVerifier.Hmac(key, Encoding.UTF8.GetBytes($"{StandardId}.{StandardTimestamp}."), StandardBody);

        Assert.Equal("83484cf52b04f8e4cf2531adfed9882ad4b2665137b852442d594d20e2c9d4e1", Convert.ToHexStringLower(mac));
        Assert.Equal(StandardSignature, "v1," + Convert.ToBase64String(mac));
    }

    [Theory]
    [InlineData("v1,dawfeoifkpqwoekfpqoekf", WebhookVerificationStatus.MalformedSignature)]
    [InlineData("v1,g0hM9SsE", WebhookVerificationStatus.SignatureMismatch)]
    [InlineData("v1,", WebhookVerificationStatus.SignatureMismatch)]
    [InlineData("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", WebhookVerificationStatus.SignatureMismatch)]
    [InlineData("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", WebhookVerificationStatus.SignatureMismatch)]
    [InlineData("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", WebhookVerificationStatus.MalformedSignature)]
    public void Standard_BadSignatures_Refused(string signature, WebhookVerificationStatus expected)
    {
        var verifier = new WebhookVerifier(StandardSecret, At(StandardTimestamp));

        Assert.Equal(expected, verifier.VerifyStandard(StandardId, StandardTimestamp.ToString(), signature,
            StandardBody));
    }

    [Fact]
    public void Standard_MultipleSignaturesUnknownVersionIgnored_Verified()
    {
        var verifier = new WebhookVerifier(StandardSecret, At(StandardTimestamp));
        var header = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " +
            StandardSignature + " v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";

        Assert.Equal(WebhookVerificationStatus.Verified,
            verifier.VerifyStandard(StandardId, StandardTimestamp.ToString(), header, StandardBody));
    }

    [Theory]
    [InlineData(null, "1614265330", StandardSignature, WebhookVerificationStatus.MissingHeader)]
    [InlineData(StandardId, null, StandardSignature, WebhookVerificationStatus.MissingHeader)]
    [InlineData(StandardId, "1614265330", null, WebhookVerificationStatus.MissingHeader)]
    [InlineData(StandardId, "hello", StandardSignature, WebhookVerificationStatus.MalformedTimestamp)]
    [InlineData(StandardId, "-1614265330", StandardSignature, WebhookVerificationStatus.MalformedTimestamp)]
    public void Standard_MissingOrMalformedHeaders_Refused(string? id, string? timestamp, string? signature,
        WebhookVerificationStatus expected)
    {
        var verifier = new WebhookVerifier(StandardSecret, At(StandardTimestamp));

        Assert.Equal(expected, verifier.VerifyStandard(id, timestamp, signature, StandardBody));
    }

    [Theory]
    [InlineData(-301, WebhookVerificationStatus.TimestampOutsideTolerance)]
    [InlineData(-300, WebhookVerificationStatus.Verified)]
    [InlineData(300, WebhookVerificationStatus.Verified)]
    [InlineData(301, WebhookVerificationStatus.TimestampOutsideTolerance)]
    public void Standard_ClockAwayFromTimestamp_ToleranceFiveMinutesEitherWay(int clockOffsetSeconds,
        WebhookVerificationStatus expected)
    {
        var verifier = new WebhookVerifier(StandardSecret, At(StandardTimestamp + clockOffsetSeconds));

        Assert.Equal(expected, verifier.VerifyStandard(StandardId, StandardTimestamp.ToString(), StandardSignature,
            StandardBody));
    }

    [Fact]
    public void Standard_TamperedBodyIdOrTimestamp_Refused()
    {
        var verifier = new WebhookVerifier(StandardSecret, At(StandardTimestamp), TimeSpan.FromDays(365 * 30));
        var tampered = Encoding.UTF8.GetBytes("""{"test": 2432232315}""");

        Assert.Equal(WebhookVerificationStatus.SignatureMismatch,
            verifier.VerifyStandard(StandardId, StandardTimestamp.ToString(), StandardSignature, tampered));
        Assert.Equal(WebhookVerificationStatus.SignatureMismatch,
            verifier.VerifyStandard("msg_other", StandardTimestamp.ToString(), StandardSignature, StandardBody));
        // Go's case: the signature stays valid only for its own timestamp, even when the window would allow another.
        Assert.Equal(WebhookVerificationStatus.SignatureMismatch,
            verifier.VerifyStandard(StandardId, "946684800", StandardSignature, StandardBody));
    }

    [Fact]
    public void Standard_ViaHeaderPairsCaseInsensitive_Verified()
    {
        var verifier = new WebhookVerifier(StandardSecret, At(StandardTimestamp));
        var headers = new Dictionary<string, string>
        {
            ["Webhook-Id"] = StandardId,
            ["Webhook-Timestamp"] = StandardTimestamp.ToString(),
            ["Webhook-Signature"] = StandardSignature,
            ["Content-Type"] = "application/json",
        };

        Assert.Equal(WebhookVerificationStatus.Verified, verifier.Verify(headers, StandardBody));
    }

    [Fact]
    public void PacSpace_MillisecondTimestampHeader_Verified()
    {
        var verifier = new WebhookVerifier(PacSpaceSecret, At(1739270400 + 10));

        Assert.Equal(WebhookVerificationStatus.Verified,
            verifier.VerifyPacSpace("v1=" + PacSpaceSignatureMs, PacSpaceTimestampMs, PacSpaceBody));
        Assert.Equal(WebhookVerificationStatus.Verified,
            verifier.VerifyPacSpace("v1=" + PacSpaceSignatureSeconds, "1739270400", PacSpaceBody));
    }

    [Fact]
    public void PacSpace_ViaHeaderLookup_Verified()
    {
        var verifier = new WebhookVerifier(PacSpaceSecret, At(1739270400));
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["X-PacSpace-Signature"] = "v1=" + PacSpaceSignatureMs,
            ["X-PacSpace-Timestamp"] = PacSpaceTimestampMs,
            ["X-Webhook-Event"] = "delta.verified",
        };

        Assert.Equal(WebhookVerificationStatus.Verified, verifier.Verify(name => headers.GetValueOrDefault(name),
            PacSpaceBody));
        Assert.Equal(WebhookVerificationStatus.MissingHeader, verifier.Verify(_ => null, PacSpaceBody));
    }

    [Fact]
    public void PacSpace_RotationHeaderWithCurrentAndPrevious_EitherSecretVerifies()
    {
        var header = $"v1={PacSpaceSignatureMs},v1={PreviousSignatureMs}";
        var previousOnly = new WebhookVerifier(PreviousSecret, At(1739270400));
        var bothSecrets = new WebhookVerifier(["whsec_next", PreviousSecret], At(1739270400));
        var unrelated = new WebhookVerifier("whsec_unrelated", At(1739270400));

        Assert.Equal(WebhookVerificationStatus.Verified, previousOnly.VerifyPacSpace(header, PacSpaceTimestampMs,
            PacSpaceBody));
        Assert.Equal(WebhookVerificationStatus.Verified, bothSecrets.VerifyPacSpace("v1=" + PreviousSignatureMs,
            PacSpaceTimestampMs, PacSpaceBody));
        Assert.Equal(WebhookVerificationStatus.SignatureMismatch, unrelated.VerifyPacSpace(header,
            PacSpaceTimestampMs, PacSpaceBody));
    }

    [Fact]
    public void PacSpace_TamperedBodyTimestampOrExpired_Refused()
    {
        var verifier = new WebhookVerifier(PacSpaceSecret, At(1739270400));
        var tampered = PacSpaceBody.ToArray();
        tampered[^3] ^= 1;

        Assert.Equal(WebhookVerificationStatus.SignatureMismatch,
            verifier.VerifyPacSpace("v1=" + PacSpaceSignatureMs, PacSpaceTimestampMs, tampered));
        Assert.Equal(WebhookVerificationStatus.SignatureMismatch,
            verifier.VerifyPacSpace("v1=" + PacSpaceSignatureMs, "1739270401000", PacSpaceBody));
        var later = new WebhookVerifier(PacSpaceSecret, At(1739270400 + 301));
        Assert.Equal(WebhookVerificationStatus.TimestampOutsideTolerance,
            later.VerifyPacSpace("v1=" + PacSpaceSignatureMs, PacSpaceTimestampMs, PacSpaceBody));
    }

    [Fact]
    public void PacSpaceCompact_StripeDotnetFixture_BytesAsPublished()
    {
        Assert.Equal(484, StripeBody.Length);
        Assert.Equal("98cc89412549ca7faf118fca984763bdb6f81e13d1ce8c528dbbb5be602ec1be",
            Convert.ToHexStringLower(SHA256.HashData(StripeBody)));
    }

    [Fact]
    public void PacSpaceCompact_StripeVectorWithinTolerance_Verified()
    {
        var verifier = new WebhookVerifier(StripeSecret, At(StripeTimestamp + 100));
        var headers = new[] { KeyValuePair.Create("Pacspace-Signature", StripeHeader) };

        Assert.Equal(WebhookVerificationStatus.Verified, verifier.Verify(headers, StripeBody));
    }

    [Fact]
    public void PacSpaceCompact_StripeVectorNegativeCases_Refused()
    {
        var verifier = new WebhookVerifier(StripeSecret, At(StripeTimestamp + 100));
        var late = new WebhookVerifier(StripeSecret, At(StripeTimestamp + 400));
        var altered = StripeBody.Concat("this_changes_the_json"u8.ToArray()).ToArray();
        var withoutFinalNewline = StripeBody[..^1];

        Assert.Equal(WebhookVerificationStatus.TimestampOutsideTolerance, late.VerifyPacSpace(StripeHeader, null,
            StripeBody));
        Assert.Equal(WebhookVerificationStatus.SignatureMismatch, verifier.VerifyPacSpace(StripeHeader, null, altered));
        Assert.Equal(WebhookVerificationStatus.SignatureMismatch, verifier.VerifyPacSpace(StripeHeader, null,
            withoutFinalNewline));
        Assert.Equal(WebhookVerificationStatus.SignatureMismatch,
            new WebhookVerifier("whsec_other", At(StripeTimestamp)).VerifyPacSpace(StripeHeader, null, StripeBody));
    }

    [Theory]
    [InlineData("t=,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,v0=63f3")]
    [InlineData("t,v1=,v0=")]
    [InlineData("t,v1=,v0")]
    [InlineData("t,v1=,")]
    [InlineData("t,,")]
    [InlineData(",,")]
    [InlineData("t")]
    [InlineData("t=1533204620,v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef")]
    [InlineData("")]
    public void PacSpaceCompact_MalformedHeaders_Refused(string header)
    {
        var verifier = new WebhookVerifier(StripeSecret, At(StripeTimestamp));

        Assert.NotEqual(WebhookVerificationStatus.Verified, verifier.VerifyPacSpace(header, null, StripeBody));
    }

    [Fact]
    public void PacSpaceCompact_ExtraBogusV1BesideValidOne_Verified()
    {
        var verifier = new WebhookVerifier(StripeSecret, At(StripeTimestamp));
        var header = StripeHeader + ",v1=" + new string('0', 24) + "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

        Assert.Equal(WebhookVerificationStatus.Verified, verifier.VerifyPacSpace(header, null, StripeBody));
    }

    [Fact]
    public void Constructor_NoOrEmptySecret_Throws()
    {
        Assert.Throws<ArgumentException>(() => new WebhookVerifier(""));
        Assert.Throws<ArgumentException>(() => new WebhookVerifier(Array.Empty<string>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebhookVerifier("s", tolerance: TimeSpan.FromSeconds(-1)));
    }

    [Theory]
    // stripe-node test/crypto/helpers.ts (§4.2): key = UTF-8 "test_secret".
    [InlineData("746573745f736563726574", "", "f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd")]
    [InlineData("746573745f736563726574", "7b226f626a31223a2268656c6c6f222c226f626a32223a22776f726c64227d",
        "bebb1a643997f419b315ddba19e6f5411e1ce7f810ba6d3617ce72823092f363")]
    [InlineData("746573745f736563726574", "f09f9880", "837da296d05c4fe31f61d5d7ead035099d9585a5bcde87de952012a78f0b0c43")]
    // RFC 4231 §4 cases 1, 2, 3, 4.
    [InlineData("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")]
    [InlineData("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")]
    [InlineData("0102030405060708090a0b0c0d0e0f10111213141516171819", "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")]
    public void Hmac_PublishedVectors_Match(string keyHex, string dataHex, string expectedHex)
    {
        var data = Convert.FromHexString(dataHex);
        var split = data.Length / 2; // Exercise the prefix + body path on every vector.

        var mac = WebhookVerifier.Hmac(Convert.FromHexString(keyHex), data.AsSpan(..split), data.AsSpan(split..));

        Assert.Equal(expectedHex, Convert.ToHexStringLower(mac));
    }

    [Fact]
    public void Hmac_KeyLongerThanBlock_Rfc4231Cases6And7()
    {
        var key = Enumerable.Repeat((byte)0xaa, 131).ToArray();

        Assert.Equal("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", Convert.ToHexStringLower(
            WebhookVerifier.Hmac(key, "Test Using Larger "u8, "Than Block-Size Key - Hash Key First"u8)));
        Assert.Equal("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", Convert.ToHexStringLower(
            WebhookVerifier.Hmac(key, [], "This is a test using a larger than block-size key and a larger than "u8 +
                "block-size data. The key needs to be hashed before being used by the HMAC algorithm."u8)));
    }

    private static FakeTimeProvider At(long unixSeconds) => new(DateTimeOffset.FromUnixTimeSeconds(unixSeconds));
}
