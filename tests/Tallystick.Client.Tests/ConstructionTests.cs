using static Tallystick.Client.Tests.FakeClock;

namespace Tallystick.Client.Tests;

// Goal: a client that cannot work is refused at construction, base addresses with a path prefix keep it, and query
// parameters are sent only when given. Method: constructors called directly; URLs read off the scripted transport.
public sealed class ConstructionTests
{
    [Fact]
    public void Constructor_NoBaseAddressAnywhere_Throws()
    {
        using var http = new HttpClient();

        Assert.Throws<ArgumentException>(() => new TallyClient(http, new TallyClientOptions { ApiKey = "pk_test_a.b" }));
        Assert.Throws<ArgumentException>(() => new TallyClient(new TallyClientOptions { ApiKey = "pk_test_a.b" }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("pk_test_a b")]
    [InlineData("pk_test_é")]
    public void Constructor_UnsendableApiKey_Throws(string apiKey)
    {
        var options = new TallyClientOptions { ApiKey = apiKey, BaseAddress = new Uri("http://tally.test/") };

        Assert.Throws<ArgumentException>(() => new TallyClient(options));
    }

    [Fact]
    public void Constructor_BaseAddressFromHttpClient_PathPrefixKeptWithTrailingSlash()
    {
        using var http = new HttpClient { BaseAddress = new Uri("https://gateway.test/ledger") };

        var client = new TallyClient(http, new TallyClientOptions { ApiKey = "pk_test_a.b" });

        Assert.Equal(new Uri("https://gateway.test/ledger/"), client.BaseAddress);
    }

    [Fact]
    public void Options_OutOfRangeSettings_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TallyClientOptions
        {
            ApiKey = "k", AttemptTimeout = TimeSpan.Zero,
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TallyRetryPolicy { BaseDelay = TimeSpan.FromSeconds(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TallyRetryPolicy { MaxDelay = TimeSpan.FromSeconds(-1) });
    }

    [Fact]
    public async Task Requests_PathPrefixEscapingAndOptionalQuery_AsExpected()
    {
        var time = NewTime();
        var customers = """{"success":true,"data":{"customers":[],"pagination":{"total":0,"page":2,"limit":5,"totalPages":0}}}""";
        var handler = new ScriptedHandler(time, ScriptedHandler.Answer(200, customers),
            ScriptedHandler.Answer(200, customers));
        using var client = new TallyClient(new HttpClient(handler, false), new TallyClientOptions
        {
            ApiKey = "pk_test_a.b", BaseAddress = new Uri("http://tally.test/prefix"), TimeProvider = time,
        });

        await client.GetCustomersAsync();
        await client.GetCustomersAsync(page: 2, limit: 5, search: "a&b c");

        Assert.Equal("http://tally.test/prefix/api/v1/balance/customers", handler.Seen[0].Uri.AbsoluteUri);
        Assert.Equal("?page=2&limit=5&search=a%26b%20c", handler.Seen[1].Uri.Query);
        Assert.All(handler.Seen, s => Assert.Null(s.IdempotencyKey));
    }

    [Fact]
    public async Task EmitBatch_EmptyNullItemOrKeyTooLongForSuffix_ArgumentException()
    {
        var time = NewTime();
        using var client = NewClient(time, new ScriptedHandler(time));
        var item = new Wire.EmitRequest { CustomerId = "c", Delta = Amount.FromDecimal(1), Reason = "r" };

        await Assert.ThrowsAsync<ArgumentException>(() => client.EmitBatchAsync([]));
        await Assert.ThrowsAsync<ArgumentException>(() => client.EmitBatchAsync([item, null!]));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            client.EmitBatchAsync(Enumerable.Repeat(item, 101), new string('k', 254)));
    }
}
