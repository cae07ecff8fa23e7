namespace Tallystick.Server.Tests;

// Goal: a tenant never sees another tenant's data, test and live are separate planes, and only valid active
// keys get in. Method: write with one key, read with every other key and with broken keys.
public sealed class TenantIsolationTests(RunningServer server) : IClassFixture<RunningServer>
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("pk_test_acmeacme0001.wrong-secret-000000000000")]
    [InlineData("pk_live_acmeacme0001.acme-test-secret-0000000001")]
    [InlineData("pk_test_unknown00001.acme-test-secret-0000000001")]
    [InlineData("not a key")]
    public async Task AnyBalanceCall_BadKey_401InvalidApiKey(string? key)
    {
        using var client = server.Client(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/balance/customers");
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", key);
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(401, (int)response.StatusCode);
        Assert.Equal("INVALID_API_KEY", Api.Code(await Api.Read(response)));
    }

    [Fact]
    public async Task OtherTenantAndOtherEnvironment_SeeNothing()
    {
        using var acme = server.Client(RunningServer.AcmeTest);
        var (_, emitted) = await Api.Post(acme, "api/v1/balance/delta", Api.Emit("iso_shared", "100"));
        var recordId = emitted.GetProperty("data").GetProperty("recordId").GetString()!;
        await Api.WaitVerified(acme, recordId);

        foreach (var other in new[] { RunningServer.GlobexTest, RunningServer.AcmeLive })
        {
            using var client = server.Client(other);
            Assert.Equal(404, (await Api.Get(client, $"api/v1/balance/delta/{recordId}")).Status);
            Assert.Equal(404, (await Api.Get(client, "api/v1/balance/derive/iso_shared")).Status);
            Assert.Equal(404, (await Api.Get(client, "api/v1/balance/customers/iso_shared")).Status);
            var (_, list) = await Api.Get(client, "api/v1/balance/customers?search=iso_shared");
            Assert.Empty(list.GetProperty("data").GetProperty("customers").EnumerateArray());
        }

        // The same customer id in another tenant is another ledger, with another keyed reference.
        using var globex = server.Client(RunningServer.GlobexTest);
        var (_, own) = await Api.Post(globex, "api/v1/balance/delta", Api.Emit("iso_shared", "-1"));
        await Api.WaitVerified(globex, own.GetProperty("data").GetProperty("recordId").GetString()!);
        var (_, acmeView) = await Api.Get(acme, "api/v1/balance/derive/iso_shared");
        var (_, globexView) = await Api.Get(globex, "api/v1/balance/derive/iso_shared");
        Assert.Equal("100", acmeView.GetProperty("data").GetProperty("computedBalance").GetRawText());
        Assert.Equal("-1", globexView.GetProperty("data").GetProperty("computedBalance").GetRawText());
        Assert.NotEqual(acmeView.GetProperty("data").GetProperty("customerReference").GetString(),
            globexView.GetProperty("data").GetProperty("customerReference").GetString());
        Assert.Equal(0, globexView.GetProperty("data").GetProperty("deltas")[0].GetProperty("sequenceNumber").GetInt64());
    }

    [Fact]
    public async Task RevokedKey_StopsWorkingWithinCacheTtl()
    {
        var directory = (Tenants.TenantDirectory)server.Services.GetService(typeof(Tenants.TenantDirectory))!;
        var key = directory.CreateKey("revokee", "test");
        using var client = server.Client(key.FullKey);
        Assert.Equal(200, (await Api.Get(client, "api/v1/balance/customers")).Status);

        Assert.True(directory.Revoke(key.PublicId));

        var deadline = DateTime.UtcNow + Tenants.ApiKeyAuthenticator.CacheTtl + TimeSpan.FromSeconds(3);
        int status;
        do
        {
            await Task.Delay(100);
            status = (await Api.Get(client, "api/v1/balance/customers")).Status;
        }
        while (status == 200 && DateTime.UtcNow < deadline);
        Assert.Equal(401, status);
    }
}
