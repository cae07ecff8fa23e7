using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Tallystick.Server.Tests;

/// <summary>
/// A real server whose clock is a <see cref="FakeTimeProvider"/>: acceptance times are exactly the times a test sets,
/// and a checkpoint is signed only after the clock moves (the checkpoint interval is 1 ms of fake time), so a test
/// can leave a customer's tail deliberately unverified. Data is emitted once, in time order, by the fixture.
/// </summary>
public sealed class ClockedServer : IAsyncLifetime
{
    public const string Key = "pk_test_clockclo0001.clocked-test-secret-00000001";

    /// <summary>"now" for the scope tests: a January, so last_month is December of the previous year.</summary>
    public static readonly DateTimeOffset Now = new(2029, 1, 15, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Deltas of customer <c>timed</c>: month ends, a leap day, a year end.</summary>
    public static readonly (string Time, int Delta)[] Timed =
    [
        ("2028-01-31T23:59:59.999Z", 1), ("2028-02-01T00:00:00.000Z", 2), ("2028-02-28T12:00:00.000Z", 4),
        ("2028-02-29T00:00:00.000Z", 8), ("2028-02-29T23:59:59.999Z", 16), ("2028-03-01T00:00:00.000Z", 32),
        ("2028-12-31T23:59:59.999Z", 64), ("2029-01-01T00:00:00.000Z", 128), ("2029-01-15T10:00:00.000Z", 256),
    ];

    private WebApplication? _app;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2027, 6, 1, 0, 0, 0, TimeSpan.Zero));

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "tally-clock-" + Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Record ids of <c>timed</c>, in order.</summary>
    public List<string> TimedRecords { get; } = [];

    /// <summary>Customer <c>random</c>: (acceptance time, amount) of each delta, in sequence order (seed 7).</summary>
    public List<(DateTimeOffset Time, decimal Amount)> RandomDeltas { get; } = [];

    public async Task InitializeAsync()
    {
        var options = new TallyOptions
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = DataDirectory,
            BootstrapApiKeys = $"clock={Key}",
            CheckpointInterval = TimeSpan.FromMilliseconds(1),
            LogOrigin = "clock.tallystick/log",
        };
        _app = TallyServer.Build(options, Time, logging: _ => { });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address + "/");
        await Seed();
    }

    private async Task Seed()
    {
        using var client = Client();
        await EmitAt(client, "old", DateTimeOffset.Parse("2027-06-01T00:00:01Z", CultureInfo.InvariantCulture), "5");
        var random = new Random(7);
        var times = Enumerable.Range(0, 60)
            .Select(_ => new DateTimeOffset(2028, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 366 * 24 * 60)))
            .Order().ToList();
        var emits = Timed.Select(t => (Time: DateTimeOffset.Parse(t.Time, CultureInfo.InvariantCulture), Customer: "timed",
                Amount: (decimal)t.Delta))
            .Concat(times.Select(t => (Time: t, Customer: "random", Amount: NonZero(random.Next(-50_000, 50_000) / 100m))))
            .OrderBy(e => e.Time).ToList();
        foreach (var (time, customer, amount) in emits)
        {
            var record = await EmitAt(client, customer, time, amount.ToString(CultureInfo.InvariantCulture));
            if (customer == "timed")
            {
                TimedRecords.Add(record);
            }
            else
            {
                RandomDeltas.Add((time, amount));
            }
        }
        // Customer tail: three verified deltas, then two that stay unverified. The third is not followed by a clock
        // move: its checkpoint is signed at the clock's current time, so no further checkpoint is ever due.
        for (var i = 0; i < 3; i++)
        {
            await EmitAt(client, "tail", Now.AddMilliseconds(i * 10), "1", advance: i < 2);
        }
        foreach (var _ in new[] { 1, 2 })
        {
            var (status, _) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("tail", "1"));
            Assert.Equal(201, status);
        }
    }

    /// <summary>Emits one delta accepted at exactly <paramref name="time"/>, then (by default) moves the clock 1 ms so
    /// a checkpoint is due, and waits until it is VERIFIED.</summary>
    private async Task<string> EmitAt(HttpClient client, string customer, DateTimeOffset time, string delta,
        bool advance = true)
    {
        if (time > Time.GetUtcNow())
        {
            Time.SetUtcNow(time);
        }
        var (status, body) = await Api.Post(client, "api/v1/balance/delta", Api.Emit(customer, delta));
        Assert.Equal(201, status);
        Assert.Equal(time, DateTimeOffset.Parse(body.GetProperty("data").GetProperty("receivedAt").GetString()!,
            CultureInfo.InvariantCulture));
        if (advance)
        {
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }
        var record = body.GetProperty("data").GetProperty("recordId").GetString()!;
        await Api.WaitVerified(client, record);
        return record;
    }

    private static decimal NonZero(decimal amount) => amount == 0 ? 1 : amount;

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public HttpClient Client()
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);
        return client;
    }
}
