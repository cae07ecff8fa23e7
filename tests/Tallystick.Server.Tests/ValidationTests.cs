using System.Net.Http.Headers;

namespace Tallystick.Server.Tests;

// Goal: every bad input is a 400-class answer with a precise code, writes nothing and leaves the server healthy.
// Method: post each malformed body to the single and batch endpoints, then check the customer does not exist
// and that a good emit still succeeds.
public sealed class ValidationTests(RunningServer server) : IClassFixture<RunningServer>
{
    public static TheoryData<string, int, string> BadSingles => new()
    {
        { "{", 400, "MALFORMED_JSON" },
        { "[]", 400, "INVALID_BODY" },
        { "{\"customerId\":\"val_1\",\"delta\":NaN,\"reason\":\"r\"}", 400, "MALFORMED_JSON" },
        { "{\"customerId\":\"val_1\",\"delta\":Infinity,\"reason\":\"r\"}", 400, "MALFORMED_JSON" },
        { "{\"customerId\":\"val_1\",\"delta\":1e400,\"reason\":\"r\"}", 400, "DELTA_OUT_OF_RANGE" },
        { "{\"customerId\":\"val_1\",\"delta\":1000000000.01,\"reason\":\"r\"}", 400, "DELTA_OUT_OF_RANGE" },
        { "{\"customerId\":\"val_1\",\"delta\":-1000000001,\"reason\":\"r\"}", 400, "DELTA_OUT_OF_RANGE" },
        { "{\"customerId\":\"val_1\",\"delta\":0,\"reason\":\"r\"}", 400, "DELTA_MUST_NOT_BE_ZERO" },
        { "{\"customerId\":\"val_1\",\"delta\":-0.0,\"reason\":\"r\"}", 400, "DELTA_MUST_NOT_BE_ZERO" },
        { "{\"customerId\":\"val_1\",\"delta\":0.123456789,\"reason\":\"r\"}", 400, "DELTA_PRECISION_EXCEEDED" },
        { "{\"customerId\":\"val_1\",\"delta\":1e-9,\"reason\":\"r\"}", 400, "DELTA_PRECISION_EXCEEDED" },
        { "{\"customerId\":\"val_1\",\"delta\":\"5\",\"reason\":\"r\"}", 400, "INVALID_DELTA" },
        { "{\"customerId\":\"val_1\",\"delta\":true,\"reason\":\"r\"}", 400, "INVALID_DELTA" },
        { "{\"customerId\":\"val_1\",\"reason\":\"r\"}", 400, "MISSING_FIELD" },
        { "{\"delta\":1,\"reason\":\"r\"}", 400, "MISSING_FIELD" },
        { "{\"customerId\":\"val_1\",\"delta\":1}", 400, "MISSING_FIELD" },
        { "{\"customerId\":\"val 1\",\"delta\":1,\"reason\":\"r\"}", 400, "INVALID_CUSTOMER_ID" },
        { "{\"customerId\":\"\",\"delta\":1,\"reason\":\"r\"}", 400, "INVALID_CUSTOMER_ID" },
        { "{\"customerId\":\"" + new string('a', 129) + "\",\"delta\":1,\"reason\":\"r\"}", 400, "INVALID_CUSTOMER_ID" },
        { "{\"customerId\":42,\"delta\":1,\"reason\":\"r\"}", 400, "INVALID_CUSTOMER_ID" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"\"}", 400, "INVALID_REASON" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"" + new string('r', 501) + "\"}", 400, "INVALID_REASON" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"a\\u0000b\"}", 400, "INVALID_REASON" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"\\ud800\"}", 400, "INVALID_REASON" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"r\",\"referenceId\":5}", 400, "INVALID_REFERENCE_ID" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"r\",\"metadata\":[1]}", 400, "INVALID_METADATA" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"r\",\"metadata\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{}}}}}}}", 400, "METADATA_TOO_DEEP" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"r\",\"metadata\":{\"n\":9007199254740993}}", 400, "INVALID_METADATA" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"r\",\"metadata\":{\"a\":1,\"a\":2}}", 400, "INVALID_METADATA" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"r\",\"metadata\":{\"s\":\"" + new string('x', 5000) + "\"}}", 400, "METADATA_TOO_LARGE" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"r\",\"extra\":1}", 400, "UNKNOWN_FIELD" },
        { "{\"customerId\":\"val_1\",\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"r\"}", 400, "DUPLICATE_FIELD" },
        { "{\"customerId\":\"val_1\",\"delta\":1,\"reason\":\"r\"} {}", 400, "MALFORMED_JSON" },
    };

    [Theory]
    [MemberData(nameof(BadSingles))]
    public async Task Emit_BadBody_RefusedWithPreciseCodeAndNothingWritten(string json, int status, string code)
    {
        using var client = server.Client();

        var (answer, body) = await Api.Post(client, "api/v1/balance/delta", json);

        Assert.Equal(status, answer);
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.Equal(code, Api.Code(body));
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.Equal(status, body.GetProperty("statusCode").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        Assert.Equal(404, (await Api.Get(client, "api/v1/balance/derive/val_1")).Status);
    }

    [Fact]
    public async Task Emit_NonUtf8Body_InvalidEncoding()
    {
        using var client = server.Client();
        var bytes = "{\"customerId\":\"val_2\",\"delta\":1,\"reason\":\"caf"u8.ToArray().Concat(new byte[] { 0xE9, 0x22, 0x7D }).ToArray();
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync("api/v1/balance/delta", content);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("INVALID_ENCODING", Api.Code(await Api.Read(response)));
    }

    [Fact]
    public async Task Emit_WrongContentTypeOrOversizedBody_Refused()
    {
        using var client = server.Client();
        using var text = new StringContent(Api.Emit("val_3", "1"), System.Text.Encoding.UTF8, "text/plain");
        using var wrongType = await client.PostAsync("api/v1/balance/delta", text);
        Assert.Equal(415, (int)wrongType.StatusCode);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", Api.Code(await Api.Read(wrongType)));

        var huge = "{\"customerId\":\"val_3\",\"delta\":1,\"reason\":\"" + new string('x', Limits.EmitBodyBytesMax) + "\"}";
        // The server answers before reading the rest and closes the connection, so HttpClient may not get to
        // read the (PAYLOAD_TOO_LARGE) body: the status is what is reliable here.
        var (status, _) = await Api.Post(client, "api/v1/balance/delta", huge);
        Assert.Equal(413, status);
        Assert.Equal(404, (await Api.Get(client, "api/v1/balance/derive/val_3")).Status);
    }

    [Theory]
    [InlineData("{\"deltas\":[]}", "BATCH_EMPTY")]
    [InlineData("{}", "MISSING_FIELD")]
    [InlineData("{\"deltas\":{}}", "INVALID_BODY")]
    [InlineData("{\"deltas\":[],\"more\":1}", "UNKNOWN_FIELD")]
    [InlineData("[{\"customerId\":\"val_4\",\"delta\":1,\"reason\":\"r\"}]", "INVALID_BODY")]
    public async Task Batch_BadShape_Refused(string json, string code)
    {
        using var client = server.Client();
        var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", json);
        Assert.Equal(400, status);
        Assert.Equal(code, Api.Code(body));
    }

    [Fact]
    public async Task Batch_101Items_BatchTooLargeAndNothingWritten()
    {
        using var client = server.Client();
        var items = string.Join(",", Enumerable.Range(0, 101).Select(_ => Api.Emit("val_5", "1")));

        var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", $"{{\"deltas\":[{items}]}}");

        Assert.Equal(400, status);
        Assert.Equal("BATCH_TOO_LARGE", Api.Code(body));
        Assert.Equal(404, (await Api.Get(client, "api/v1/balance/derive/val_5")).Status);
        var (good, _) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("val_5", "1"));
        Assert.Equal(201, good);
    }

    [Fact]
    public async Task Status_UnknownOrMalformedRecordId_404()
    {
        using var client = server.Client();
        Assert.Equal("RECORD_NOT_FOUND", Api.Code((await Api.Get(client, "api/v1/balance/delta/rec_999999")).Body));
        Assert.Equal("RECORD_NOT_FOUND", Api.Code((await Api.Get(client, "api/v1/balance/delta/nonsense")).Body));
    }
}
