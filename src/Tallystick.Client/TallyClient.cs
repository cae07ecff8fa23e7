using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Tallystick.Wire;

namespace Tallystick.Client;

/// <summary>
/// A typed client for the Tallystick (and PacSpace-compatible) Balance API: emit deltas, follow them to VERIFIED,
/// derive balances, read customers. Calls authenticate with <see cref="TallyClientOptions.ApiKey"/>; a client without
/// a key can make the public calls only (public verify and the transparency log), and refuses the others before
/// sending (<see cref="TallyErrorKind.InvalidApiKey"/>, code <c>API_KEY_REQUIRED</c>).
/// </summary>
/// <remarks>
/// <para><b>Thread-safety.</b> Immutable after construction; one instance may serve any number of concurrent calls.
/// Register it as a singleton, or build one per typed <see cref="HttpClient"/> from <c>IHttpClientFactory</c>.</para>
/// <para><b>HttpClient ownership.</b> The client never disposes an <see cref="HttpClient"/> it was given, so factory
/// clients work unchanged. The <see cref="TallyClient(TallyClientOptions)"/> convenience constructor creates its own,
/// which <see cref="Dispose"/> releases.</para>
/// <para><b>Failures.</b> A refused or unreachable call throws <see cref="TallyApiException"/> (its
/// <see cref="TallyApiException.Kind"/> says what happened) after the retries of
/// <see cref="TallyClientOptions.Retry"/>.
/// Arguments that can never be sent throw <see cref="ArgumentException"/> before any request; cancelling the token
/// throws <see cref="OperationCanceledException"/>.</para>
/// <para><b>Idempotency.</b> Each emit call sends one <c>Idempotency-Key</c> (yours, or a fresh UUID), the same on
/// every retry of that call, so a retry after a lost answer is replayed by the server instead of recorded twice.</para>
/// </remarks>
public sealed partial class TallyClient : IDisposable
{
    /// <summary>The product token of the <c>User-Agent</c> header.</summary>
    public const string UserAgentProduct = "tallystick-dotnet";

    /// <summary>How long <see cref="WaitForVerifiedAsync"/> waits by default: 60 s, as the official SDKs.</summary>
    public static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The first poll interval of <see cref="WaitForVerifiedAsync"/> by default: 100 ms (Tallystick verifies
    /// within milliseconds; the interval doubles per poll).</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest poll interval the doubling reaches (unless a longer first interval was asked for).
    /// </summary>
    public static readonly TimeSpan PollIntervalMax = TimeSpan.FromSeconds(2);

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Uri _baseAddress;
    private readonly string? _apiKey;
    private readonly TallyRetryPolicy _retry;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeProvider _time;
    private readonly Func<double> _jitter;

    /// <summary>Creates a client over <paramref name="httpClient"/>, which it uses but never disposes.</summary>
    /// <param name="httpClient">Any <see cref="HttpClient"/>, e.g. from <c>IHttpClientFactory</c>. Its
    /// <see cref="HttpClient.BaseAddress"/> is used when <see cref="TallyClientOptions.BaseAddress"/> is null; its
    /// default headers are sent too.</param>
    /// <param name="options">Key (or none), address, retry policy and clock; read once.</param>
    /// <exception cref="ArgumentException">No base address, a relative one, or an API key that is empty, or not
    /// printable ASCII without spaces (a null key is allowed: public calls only).</exception>
    public TallyClient(HttpClient httpClient, TallyClientOptions options)
        : this(httpClient, options, ownsHttp: false)
    {
    }

    /// <summary>
    /// Creates a client with its own <see cref="HttpClient"/> (connections recycled every 2 minutes so DNS changes are
    /// seen), released by <see cref="Dispose"/>. <see cref="TallyClientOptions.BaseAddress"/> is required.
    /// </summary>
    /// <exception cref="ArgumentException">No or a relative base address, or an API key that is empty, or not
    /// printable ASCII without spaces (a null key is allowed: public calls only).</exception>
    public TallyClient(TallyClientOptions options)
        : this(CreateOwnedHttpClient(), options, ownsHttp: true)
    {
    }

    private TallyClient(HttpClient httpClient, TallyClientOptions options, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        _ownsHttp = ownsHttp;
        _http = httpClient;
        try
        {
            _baseAddress = NormalizeBase(options.BaseAddress ?? httpClient.BaseAddress, nameof(options));
            _apiKey = ValidateApiKey(options.ApiKey, nameof(options));
        }
        catch (ArgumentException) when (ownsHttp)
        {
            httpClient.Dispose();
            throw;
        }
        _retry = options.Retry ?? TallyRetryPolicy.Default;
        _attemptTimeout = options.AttemptTimeout;
        _time = options.TimeProvider ?? TimeProvider.System;
        _jitter = options.Jitter ?? Random.Shared.NextDouble;
    }

    /// <summary>The <c>User-Agent</c> sent with every request: <c>tallystick-dotnet/&lt;version&gt;</c>.</summary>
    public static string UserAgent { get; } = $"{UserAgentProduct}/{ReadVersion()}";

    /// <summary>The absolute base address requests are resolved against (always ends with <c>/</c>).</summary>
    public Uri BaseAddress => _baseAddress;

    /// <summary>
    /// Records one delta (<c>POST /api/v1/balance/delta</c>). Retried per policy under one Idempotency-Key.
    /// </summary>
    /// <param name="customerId">1–128 characters of <c>[A-Za-z0-9_.:-]</c> (checked by the server).</param>
    /// <param name="delta">Non-zero, |delta| ≤ 1,000,000,000, at most 8 fraction digits. Positive credits.</param>
    /// <param name="reason">Audit text, 1–500 characters.</param>
    /// <param name="referenceId">Your correlation id; a repeated (customerId, referenceId) is recorded once.</param>
    /// <param name="metadata">A JSON object (≤ 4096 canonical bytes, depth ≤ 5), or null.</param>
    /// <param name="idempotencyKey">Your Idempotency-Key (1–255 printable ASCII); a fresh UUID when null.</param>
    /// <param name="cancellationToken">Cancels the call, including waits between retries.</param>
    /// <returns>The record: <c>201</c> new (status QUEUED), or <c>200</c> the original record of a repeated
    /// referenceId (<see cref="EmitResult.Idempotent"/> true, its current status).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> has more than 8 fraction digits (it
    /// could never be recorded exactly).</exception>
    /// <exception cref="TallyApiException">Refused (e.g. <see cref="TallyErrorKind.Validation"/> with
    /// <see cref="TallyApiException.Field"/>, <see cref="TallyErrorKind.Conflict"/>) or unreachable.</exception>
    public Task<EmitResult> EmitAsync(string customerId, decimal delta, string reason, string? referenceId = null,
        JsonElement? metadata = null, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        EmitAsync(NewRequest(customerId, delta, reason, referenceId, metadata), idempotencyKey, cancellationToken);

    /// <summary>Records one delta given as a wire record; otherwise as the other overload.</summary>
    /// <inheritdoc cref="EmitAsync(string, decimal, string, string?, JsonElement?, string?, CancellationToken)"/>
    public Task<EmitResult> EmitAsync(EmitRequest delta, string? idempotencyKey = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(delta);
        var body = JsonSerializer.SerializeToUtf8Bytes(delta, WireJson.Default.EmitRequest);
        return SendAsync(HttpMethod.Post, "api/v1/balance/delta", body, idempotencyKey ?? NewIdempotencyKey(),
            WireJson.Default.EnvelopeEmitResult, cancellationToken);
    }

    /// <summary>
    /// Records many deltas (<c>POST /api/v1/balance/delta/batch</c>), sent in order in chunks of at most
    /// <see cref="Limits.BatchDeltasMax"/> (100), one request per chunk, each retried per policy under its own
    /// Idempotency-Key.
    /// </summary>
    /// <param name="deltas">One or more deltas; enumerated once.</param>
    /// <param name="idempotencyKey">
    /// A base key for the call, or null for a fresh UUID. A single chunk is sent with the key as is; chunk <c>i</c>
    /// of several is sent with <c>{key}.{i}</c>, so calling again with the same key and items replays the chunks
    /// already recorded instead of recording them twice.
    /// </param>
    /// <param name="cancellationToken">Cancels the call; chunks already answered stay recorded.</param>
    /// <returns>
    /// One result per input item, in input order, with <see cref="BatchItemResult.Index"/> the position in
    /// <paramref name="deltas"/>; items fail individually (<c>status: FAILED</c>, <c>error</c>, <c>field</c>). With one
    /// chunk this is the server's answer unchanged; with several, totals are summed, <c>uniqueCustomers</c> counts
    /// distinct accepted customers over all chunks, and <c>estimatedSlots</c> sums the chunks' records.
    /// </returns>
    /// <exception cref="ArgumentException">No deltas, a null item, or a key too long for its chunk suffix.</exception>
    /// <exception cref="TallyApiException">A chunk was refused as a whole or unreachable. Earlier chunks are recorded;
    /// call again with the same <paramref name="idempotencyKey"/> to finish without duplicates.</exception>
    public Task<BatchEmitResult> EmitBatchAsync(IEnumerable<EmitRequest> deltas, string? idempotencyKey = null,
        CancellationToken cancellationToken = default) =>
        EmitBatchAsync(deltas, idempotencyKey, progress: null, cancellationToken);

    /// <summary>
    /// <see cref="EmitBatchAsync(IEnumerable{EmitRequest}, string?, CancellationToken)"/>, reporting after each answered
    /// chunk how many deltas have been answered so far (recorded or refused item by item), for progress displays.
    /// </summary>
    /// <param name="deltas">One or more deltas; enumerated once.</param>
    /// <param name="idempotencyKey">As in the overload without progress.</param>
    /// <param name="progress">Told the running count of answered deltas after each chunk, on the calling flow
    /// (synchronously); null for none.</param>
    /// <param name="cancellationToken">Cancels the call; chunks already answered stay recorded.</param>
    /// <returns>As in the overload without progress.</returns>
    /// <exception cref="ArgumentException">No deltas, a null item, or a key too long for its chunk suffix.</exception>
    /// <exception cref="TallyApiException">A chunk was refused as a whole or unreachable. Earlier chunks are recorded;
    /// call again with the same <paramref name="idempotencyKey"/> to finish without duplicates.</exception>
    public async Task<BatchEmitResult> EmitBatchAsync(IEnumerable<EmitRequest> deltas, string? idempotencyKey,
        IProgress<int>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deltas);
        var chunks = deltas.Chunk(Limits.BatchDeltasMax).ToList();
        if (chunks.Count == 0)
        {
            throw new ArgumentException("a batch needs at least one delta", nameof(deltas));
        }
        if (chunks.Any(chunk => chunk.Any(item => item is null)))
        {
            throw new ArgumentException("a batch must not contain null deltas", nameof(deltas));
        }
        var keys = ChunkKeys(idempotencyKey ?? NewIdempotencyKey(), chunks.Count);
        var answers = new List<BatchEmitResult>(chunks.Count);
        var answered = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new BatchEmitRequest { Deltas = chunks[i] },
                WireJson.Default.BatchEmitRequest);
            var answer = await SendAsync(HttpMethod.Post, "api/v1/balance/delta/batch", body, keys[i],
                WireJson.Default.EnvelopeBatchEmitResult, cancellationToken).ConfigureAwait(false);
            answers.Add(answer);
            answered += answer.Results.Count;
            progress?.Report(answered);
        }
        return answers.Count == 1 ? answers[0] : MergeChunks(answers);
    }

    /// <summary>Reads a record's status (<c>GET /api/v1/balance/delta/{recordId}</c>). Retried per policy.</summary>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/> (<c>RECORD_NOT_FOUND</c>) for an
    /// unknown id; or unreachable.</exception>
    public Task<DeltaStatusResult> GetDeltaStatusAsync(string recordId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recordId);
        return SendAsync(HttpMethod.Get, "api/v1/balance/delta/" + Uri.EscapeDataString(recordId), null, null,
            WireJson.Default.EnvelopeDeltaStatusResult, cancellationToken);
    }

    /// <summary>
    /// Polls a record until its status is terminal: VERIFIED, or FAILED (reserved by PacSpace; Tallystick never
    /// produces it). The first poll is immediate; then the interval starts at <paramref name="pollInterval"/> and
    /// doubles per poll up to <see cref="PollIntervalMax"/>, never sleeping past the deadline.
    /// </summary>
    /// <param name="recordId">The <see cref="EmitResult.RecordId"/>.</param>
    /// <param name="timeout">Positive; <see cref="DefaultWaitTimeout"/> when null. Checked between polls.</param>
    /// <param name="pollInterval">Positive; <see cref="DefaultPollInterval"/> when null.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The terminal status; check <see cref="DeltaStatusResult.Status"/> for FAILED.</returns>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.Timeout"/> (code <c>TIMEOUT</c>) when the record
    /// is still not terminal at the deadline — it stays recorded; any failure of a poll after its retries.
    /// </exception>
    public async Task<DeltaStatusResult> WaitForVerifiedAsync(string recordId, TimeSpan? timeout = null,
        TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recordId);
        var limit = timeout ?? DefaultWaitTimeout;
        var interval = pollInterval ?? DefaultPollInterval;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero, nameof(timeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(pollInterval));
        var intervalMax = interval > PollIntervalMax ? interval : PollIntervalMax;
        var started = _time.GetTimestamp();
        for (var polls = 1; ; polls++)
        {
            var status = await GetDeltaStatusAsync(recordId, cancellationToken).ConfigureAwait(false);
            if (DeltaStatuses.IsTerminal(status.Status))
            {
                return status;
            }
            var remaining = limit - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                throw new TallyApiException(new TallyFailure(TallyErrorKind.Timeout, null, ErrorMap.TimeoutCode,
                    $"record {recordId} is still {status.Status} after {limit.TotalSeconds:0.###} s; it stays " +
                    "recorded, wait again or rely on the delta.verified webhook"), polls);
            }
            await Task.Delay(interval < remaining ? interval : remaining, _time, cancellationToken)
                .ConfigureAwait(false);
            interval = interval * 2 < intervalMax ? interval * 2 : intervalMax;
        }
    }

    /// <summary>Emits one delta, then waits for it as <see cref="WaitForVerifiedAsync"/> does.</summary>
    /// <param name="customerId">As for <c>EmitAsync</c>.</param>
    /// <param name="delta">As for <c>EmitAsync</c>.</param>
    /// <param name="reason">As for <c>EmitAsync</c>.</param>
    /// <param name="referenceId">As for <c>EmitAsync</c>.</param>
    /// <param name="metadata">As for <c>EmitAsync</c>.</param>
    /// <param name="timeout">The wait's limit (not counting the emit); <see cref="DefaultWaitTimeout"/> when null.
    /// </param>
    /// <param name="cancellationToken">Cancels the emit or the wait.</param>
    /// <returns>The record's terminal status.</returns>
    /// <exception cref="TallyApiException">The emit failed, or (<see cref="TallyErrorKind.Timeout"/>) the recorded
    /// delta was not VERIFIED in time: do not emit it again without the same referenceId.</exception>
    public Task<DeltaStatusResult> EmitAndWaitAsync(string customerId, decimal delta, string reason,
        string? referenceId = null, JsonElement? metadata = null, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        EmitAndWaitAsync(NewRequest(customerId, delta, reason, referenceId, metadata), null, timeout,
            cancellationToken);

    /// <summary>Emits one delta given as a wire record, then waits for it; otherwise as the other overload.</summary>
    /// <param name="delta">The delta.</param>
    /// <param name="idempotencyKey">As for <c>EmitAsync</c>.</param>
    /// <param name="timeout">The wait's limit; <see cref="DefaultWaitTimeout"/> when null.</param>
    /// <param name="cancellationToken">Cancels the emit or the wait.</param>
    /// <returns>The record's terminal status.</returns>
    /// <exception cref="TallyApiException">As the other overload.</exception>
    public async Task<DeltaStatusResult> EmitAndWaitAsync(EmitRequest delta, string? idempotencyKey = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var emitted = await EmitAsync(delta, idempotencyKey, cancellationToken).ConfigureAwait(false);
        return await WaitForVerifiedAsync(emitted.RecordId, timeout, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Derives a customer's balance from the verified record (<c>GET /api/v1/balance/derive/{customerId}</c>), all
    /// time. Retried per policy.
    /// </summary>
    /// <param name="customerId">The customer.</param>
    /// <param name="limit">Rows of <see cref="DeriveResult.Deltas"/>: 1–1000; the server's default (100) when null.
    /// The balance always covers every verified delta.</param>
    /// <param name="offset">Rows to skip (≥ 0); 0 when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/> (<c>CUSTOMER_NOT_FOUND</c>),
    /// <see cref="TallyErrorKind.Validation"/> (<c>INVALID_QUERY</c>) for paging out of range, or unreachable.
    /// </exception>
    public Task<DeriveResult> DeriveAsync(string customerId, int? limit = null, long? offset = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        var path = "api/v1/balance/derive/" + Uri.EscapeDataString(customerId) +
            Query(("limit", limit?.ToString(CultureInfo.InvariantCulture)),
                ("offset", offset?.ToString(CultureInfo.InvariantCulture)));
        return SendAsync(HttpMethod.Get, path, null, null, WireJson.Default.EnvelopeDeriveResult, cancellationToken);
    }

    /// <summary>Lists customers ordered by id (<c>GET /api/v1/balance/customers</c>). Retried per policy.</summary>
    /// <param name="page">1-based page; 1 when null.</param>
    /// <param name="limit">Customers per page, 1–100; the server's default (25) when null.</param>
    /// <param name="search">Case-insensitive substring of the customer id; all when null or empty.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.Validation"/> (<c>INVALID_QUERY</c>) for paging
    /// out of range, or unreachable.</exception>
    public Task<CustomerList> GetCustomersAsync(int? page = null, int? limit = null, string? search = null,
        CancellationToken cancellationToken = default)
    {
        var path = "api/v1/balance/customers" + Query(("page", page?.ToString(CultureInfo.InvariantCulture)),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("search", search));
        return SendAsync(HttpMethod.Get, path, null, null, WireJson.Default.EnvelopeCustomerList, cancellationToken);
    }

    /// <summary>Reads one customer with recent activity (<c>GET /api/v1/balance/customers/{customerId}</c>).
    /// Retried per policy.</summary>
    /// <param name="customerId">The customer.</param>
    /// <param name="deltaPage">1-based page of <see cref="CustomerDetail.RecentActivity"/>; 1 when null.</param>
    /// <param name="deltaLimit">Activity rows per page, 1–100; the server's default (20) when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/> (<c>CUSTOMER_NOT_FOUND</c>),
    /// <see cref="TallyErrorKind.Validation"/> for paging out of range, or unreachable.</exception>
    public Task<CustomerDetail> GetCustomerAsync(string customerId, int? deltaPage = null, int? deltaLimit = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        var path = "api/v1/balance/customers/" + Uri.EscapeDataString(customerId) +
            Query(("deltaPage", deltaPage?.ToString(CultureInfo.InvariantCulture)),
                ("deltaLimit", deltaLimit?.ToString(CultureInfo.InvariantCulture)));
        return SendAsync(HttpMethod.Get, path, null, null, WireJson.Default.EnvelopeCustomerDetail,
            cancellationToken);
    }

    /// <summary>Releases the <see cref="HttpClient"/> the convenience constructor created; does nothing for a client
    /// passed in. Calls made after disposing an owned client throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private static EmitRequest NewRequest(string customerId, decimal delta, string reason, string? referenceId,
        JsonElement? metadata)
    {
        ArgumentNullException.ThrowIfNull(customerId);
        ArgumentNullException.ThrowIfNull(reason);
        return new EmitRequest
        {
            CustomerId = customerId,
            Delta = Amount.FromDecimal(delta),
            Reason = reason,
            ReferenceId = referenceId,
            Metadata = metadata,
        };
    }

    /// <summary>A fresh UUID per logical call; its retries reuse it.</summary>
    private static string NewIdempotencyKey() => Guid.NewGuid().ToString("D");

    private static string[] ChunkKeys(string key, int chunks)
    {
        if (chunks == 1)
        {
            return [key];
        }
        var longest = key.Length + 1 + (chunks - 1).ToString(CultureInfo.InvariantCulture).Length;
        if (longest > Limits.IdempotencyKeyCharsMax)
        {
            throw new ArgumentException($"the idempotency key plus its chunk suffix must fit in " +
                $"{Limits.IdempotencyKeyCharsMax} characters", nameof(key));
        }
        return Enumerable.Range(0, chunks).Select(i => $"{key}.{i.ToString(CultureInfo.InvariantCulture)}")
            .ToArray();
    }

    private static BatchEmitResult MergeChunks(List<BatchEmitResult> answers)
    {
        var results = new List<BatchItemResult>(answers.Sum(a => a.Results.Count));
        foreach (var answer in answers)
        {
            var offset = results.Count;
            results.AddRange(answer.Results.OrderBy(r => r.Index).Select(r => r with { Index = r.Index + offset }));
        }
        var customers = results
            .Where(r => !string.Equals(r.Status, DeltaStatuses.Failed, StringComparison.OrdinalIgnoreCase))
            .Select(r => r.CustomerId).Distinct(StringComparer.Ordinal).Count();
        var slots = answers.Sum(a => a.Efficiency.EstimatedSlots);
        return new BatchEmitResult
        {
            TotalQueued = answers.Sum(a => a.TotalQueued),
            TotalFailed = answers.Sum(a => a.TotalFailed),
            Results = results,
            Efficiency = new BatchEfficiency
            {
                UniqueCustomers = customers,
                TotalDeltas = answers.Sum(a => a.Efficiency.TotalDeltas),
                EstimatedSlots = slots,
                Message = $"{results.Count} deltas sent in {answers.Count} requests of at most " +
                    $"{Limits.BatchDeltasMax}; {slots} records",
            },
        };
    }

    private static string Query(params ReadOnlySpan<(string Name, string? Value)> parameters)
    {
        var query = new StringBuilder();
        foreach (var (name, value) in parameters)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }
            query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
        return query.ToString();
    }

    private static Uri NormalizeBase(Uri? address, string paramName)
    {
        if (address is null || !address.IsAbsoluteUri)
        {
            throw new ArgumentException("an absolute base address is required (TallyClientOptions.BaseAddress or " +
                "HttpClient.BaseAddress)", paramName);
        }
        var text = address.GetLeftPart(UriPartial.Path);
        return new Uri(text.EndsWith('/') ? text : text + "/");
    }

    /// <summary>The key as given, or null for a client without one. An empty key is refused rather than taken as
    /// "none": it is more likely an unset variable than a choice, and a header with no value is never sent.</summary>
    private static string? ValidateApiKey(string? apiKey, string paramName)
    {
        if (apiKey is not null && (apiKey.Length == 0 || !apiKey.All(c => c is > ' ' and < (char)127)))
        {
            throw new ArgumentException(
                "ApiKey must be printable ASCII without spaces (pk_test_… or pk_live_…), or null for public calls only",
                paramName);
        }
        return apiKey;
    }

    private static HttpClient CreateOwnedHttpClient() =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            // Attempts are bounded by TallyClientOptions.AttemptTimeout on the injected clock instead.
            Timeout = Timeout.InfiniteTimeSpan,
        };

    private static string ReadVersion()
    {
        var version = typeof(TallyClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
            ?.InformationalVersion ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus >= 0 ? version[..plus] : version;
    }
}
