using System.Text;

namespace Tallystick.Client.Tests;

// Goal: every row of the error table in docs/sdk.md holds, and every error-body shape seen in the wild (reference
// §6.1: nested, flat, message arrays, error as a string, not JSON) is read. Method: the one mapping function, called
// directly with each (status, code) pair and each body.
public sealed class ErrorMapTests
{
    [Theory]
    [InlineData(401, "INVALID_API_KEY", TallyErrorKind.InvalidApiKey)]
    [InlineData(401, null, TallyErrorKind.InvalidApiKey)]
    [InlineData(403, "API_KEY_ENVIRONMENT_HOST_MISMATCH", TallyErrorKind.InvalidApiKey)]
    [InlineData(400, "VALIDATION_ERROR", TallyErrorKind.Validation)]
    [InlineData(400, "DELTA_OUT_OF_RANGE", TallyErrorKind.Validation)]
    [InlineData(400, null, TallyErrorKind.Validation)]
    [InlineData(413, "PAYLOAD_TOO_LARGE", TallyErrorKind.Validation)]
    [InlineData(415, "UNSUPPORTED_MEDIA_TYPE", TallyErrorKind.Validation)]
    [InlineData(422, "BALANCE_LIMIT_EXCEEDED", TallyErrorKind.Validation)]
    [InlineData(400, "INVALID_SCOPE_COMBINATION", TallyErrorKind.Scope)]
    [InlineData(400, "SCOPE_TOO_WIDE", TallyErrorKind.Scope)]
    [InlineData(400, "UNSUPPORTED_SCOPE", TallyErrorKind.Scope)]
    [InlineData(404, "CUSTOMER_NOT_FOUND", TallyErrorKind.NotFound)]
    [InlineData(404, "RECORD_NOT_FOUND", TallyErrorKind.NotFound)]
    [InlineData(404, "NOT_FOUND", TallyErrorKind.NotFound)]
    [InlineData(409, "IDEMPOTENCY_KEY_REUSED", TallyErrorKind.Conflict)]
    [InlineData(409, "REFERENCE_ID_CONFLICT", TallyErrorKind.Conflict)]
    [InlineData(202, "IDEMPOTENCY_PENDING", TallyErrorKind.IdempotencyPending)]
    [InlineData(429, "RATE_LIMITED", TallyErrorKind.RateLimited)]
    [InlineData(429, null, TallyErrorKind.RateLimited)]
    [InlineData(429, "CADENCE_LIMIT", TallyErrorKind.CadenceLimited)]
    [InlineData(503, "SERVICE_UNAVAILABLE", TallyErrorKind.ServiceUnavailable)]
    [InlineData(408, null, TallyErrorKind.Timeout)]
    [InlineData(504, null, TallyErrorKind.Timeout)]
    [InlineData(500, "INTERNAL_ERROR", TallyErrorKind.Server)]
    [InlineData(502, null, TallyErrorKind.Server)]
    [InlineData(402, "INSUFFICIENT_CREDITS", TallyErrorKind.Other)]
    [InlineData(412, "CONTRACT_NOT_DEPLOYED", TallyErrorKind.Other)]
    public void Classify_StatusAndCode_Kind(int status, string? code, TallyErrorKind expected) =>
        Assert.Equal(expected, ErrorMap.Classify(status, code));

    [Theory]
    [InlineData(TallyErrorKind.Network, true)]
    [InlineData(TallyErrorKind.Timeout, true)]
    [InlineData(TallyErrorKind.RateLimited, true)]
    [InlineData(TallyErrorKind.ServiceUnavailable, true)]
    [InlineData(TallyErrorKind.Server, true)]
    [InlineData(TallyErrorKind.IdempotencyPending, true)]
    [InlineData(TallyErrorKind.CadenceLimited, false)]
    [InlineData(TallyErrorKind.Validation, false)]
    [InlineData(TallyErrorKind.Scope, false)]
    [InlineData(TallyErrorKind.InvalidApiKey, false)]
    [InlineData(TallyErrorKind.NotFound, false)]
    [InlineData(TallyErrorKind.Conflict, false)]
    [InlineData(TallyErrorKind.Other, false)]
    public void IsTransient_Kind_OnlyTransportAndServerSideKinds(TallyErrorKind kind, bool transient) =>
        Assert.Equal(transient, ErrorMap.IsTransient(kind));

    [Fact]
    public void IsTransient_EveryKindListedInOneOfTheTwoTheories()
    {
        // A new kind must be placed on one side of the retry line deliberately; this fails until it is.
        Assert.Equal(13, Enum.GetValues<TallyErrorKind>().Length);
    }

    [Fact]
    public void FromAnswer_TallystickEnvelope_AllFieldsRead()
    {
        var body = """
            {"success":false,"statusCode":400,"code":"DELTA_OUT_OF_RANGE","message":"too big",
             "error":{"code":"DELTA_OUT_OF_RANGE","message":"too big","field":"deltas[3].delta"}}
            """;

        var failure = Read(400, body);

        Assert.Equal(TallyErrorKind.Validation, failure.Kind);
        Assert.Equal("DELTA_OUT_OF_RANGE", failure.Code);
        Assert.Equal("too big", failure.Message);
        Assert.Equal("deltas[3].delta", failure.Field);
        Assert.Equal(400, failure.HttpStatus);
    }

    [Fact]
    public void FromAnswer_FlatBodyWithMessageArray_JoinedNestJsStyle()
    {
        var failure = Read(400, """{"statusCode":400,"message":["delta must be a number"," reason is required "],"error":"Bad Request"}""");

        Assert.Equal("delta must be a number; reason is required", failure.Message);
        Assert.Equal("HTTP_400", failure.Code);
        Assert.Equal(TallyErrorKind.Validation, failure.Kind);
    }

    [Fact]
    public void FromAnswer_ErrorAsStringOnly_UsedAsMessage()
    {
        var failure = Read(404, """{"statusCode":404,"error":"Not Found"}""");

        Assert.Equal("Not Found", failure.Message);
        Assert.Equal(TallyErrorKind.NotFound, failure.Kind);
    }

    [Fact]
    public void FromAnswer_FlatCadenceWithStringSecondsAndRequestId_Read()
    {
        var failure = Read(429, """{"code":"CADENCE_LIMIT","message":"slow down","retryAfterSeconds":"90","customerId":"cust_1","requestId":"req_9"}""");

        Assert.Equal(TallyErrorKind.CadenceLimited, failure.Kind);
        Assert.Equal(TimeSpan.FromSeconds(90), failure.RetryAfter);
        Assert.Equal("cust_1", failure.CustomerId);
        Assert.Equal("req_9", failure.RequestId);
    }

    [Fact]
    public void FromAnswer_NotJson_StatusAloneClassifies()
    {
        var failure = Read(502, "<html><body>Bad Gateway</body></html>");

        Assert.Equal(TallyErrorKind.Server, failure.Kind);
        Assert.Equal("HTTP_502", failure.Code);
        Assert.Contains("502", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromAnswer_RetryAfterHeaderWinsOverBody()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("Retry-After", "7");

        var failure = ErrorMap.FromAnswer(503, Encoding.UTF8.GetBytes("""{"error":{"code":"SERVICE_UNAVAILABLE","message":"m","retryAfterSeconds":1}}"""),
            response.Headers, DateTimeOffset.UnixEpoch);

        Assert.Equal(TimeSpan.FromSeconds(7), failure.RetryAfter);
    }

    [Fact]
    public void RetryAfter_HttpDateInThePast_Zero()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT");
        var now = DateTimeOffset.FromUnixTimeSeconds(1_767_225_600);

        Assert.Equal(TimeSpan.Zero, ErrorMap.RetryAfter(response.Headers, now));
    }

    private static TallyFailure Read(int status, string body)
    {
        using var response = new HttpResponseMessage();
        return ErrorMap.FromAnswer(status, Encoding.UTF8.GetBytes(body), response.Headers, DateTimeOffset.UnixEpoch);
    }
}
