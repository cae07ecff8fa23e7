using System.Globalization;
using System.Text.Json;
using Tallystick.Notes;
using Tallystick.Proofs;
using Tallystick.Wire;

namespace Tallystick.Client;

public sealed partial class TallyClient
{
    /// <summary>
    /// Derives a customer's balance over <paramref name="scope"/> (<c>GET /api/v1/balance/derive/{customerId}</c>
    /// with scope parameters). Retried per policy.
    /// </summary>
    /// <param name="customerId">The customer.</param>
    /// <param name="scope">The window; see <see cref="TallyScope.CurrentMonth"/>, <see cref="TallyScope.ForPeriod"/>,
    /// <see cref="TallyScope.MonthsBack"/>.</param>
    /// <param name="limit">Rows per page (1–1000); the server's default when null.</param>
    /// <param name="offset">Rows to skip within the window.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.Scope"/> or <see cref="TallyErrorKind.Validation"/>
    /// for a scope the server refuses, <see cref="TallyErrorKind.NotFound"/> for an unknown customer.</exception>
    public Task<DeriveResult> DeriveAsync(string customerId, TallyScope scope, int? limit = null, long? offset = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        ArgumentNullException.ThrowIfNull(scope);
        var path = "api/v1/balance/derive/" + Uri.EscapeDataString(customerId) + Query([.. scope.Parameters(),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("offset", offset?.ToString(CultureInfo.InvariantCulture))]);
        return SendAsync(HttpMethod.Get, path, null, null, WireJson.Default.EnvelopeDeriveResult, cancellationToken);
    }

    /// <summary>
    /// Compares balances and/or record views against the verified record (<c>POST /api/v1/balance/compare</c>).
    /// Read-only on the server, so retried per policy.
    /// </summary>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.Validation"/> or <see cref="TallyErrorKind.Scope"/>
    /// for a request the server refuses; <see cref="TallyErrorKind.NotFound"/> for an unknown customer.</exception>
    public Task<CompareResult> CompareAsync(CompareRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = JsonSerializer.SerializeToUtf8Bytes(request, WireJson.Default.CompareRequest);
        return SendAsync(HttpMethod.Post, "api/v1/balance/compare", body, null, WireJson.Default.EnvelopeCompareResult,
            cancellationToken);
    }

    /// <summary>Per-window totals and Merkle roots for bisecting a divergence
    /// (<c>GET /api/v1/balance/compare/{customerId}/windows</c>). Retried per policy.</summary>
    public Task<CompareWindows> GetCompareWindowsAsync(string customerId, TallyScope scope,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        ArgumentNullException.ThrowIfNull(scope);
        var path = "api/v1/balance/compare/" + Uri.EscapeDataString(customerId) + "/windows" + Query([.. scope.Parameters()]);
        return SendAsync(HttpMethod.Get, path, null, null, WireJson.Default.EnvelopeCompareWindows, cancellationToken);
    }

    /// <summary>Missing or unverified sequence numbers in [<paramref name="fromSequence"/>,
    /// <paramref name="toSequence"/>) (<c>GET /api/v1/balance/gaps/{customerId}</c>). Retried per policy.</summary>
    public Task<GapReport> GetGapsAsync(string customerId, long? fromSequence = null, long? toSequence = null,
        int? limit = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        var path = "api/v1/balance/gaps/" + Uri.EscapeDataString(customerId) + Query(
            ("fromSequence", fromSequence?.ToString(CultureInfo.InvariantCulture)),
            ("toSequence", toSequence?.ToString(CultureInfo.InvariantCulture)),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)));
        return SendAsync(HttpMethod.Get, path, null, null, WireJson.Default.EnvelopeGapReport, cancellationToken);
    }

    /// <summary>
    /// Commits a period checkpoint over one customer's verified deltas (<c>POST /api/v1/balance/checkpoint</c>):
    /// all of them when <paramref name="scope"/> is null, else the scope's time window. The same window always
    /// answers the same checkpoint, so retries (per policy, with one Idempotency-Key) never create two.
    /// </summary>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/> for an unknown customer,
    /// <see cref="TallyErrorKind.Validation"/> (<c>EMPTY_WINDOW</c>) when nothing verified lies in the window.</exception>
    public Task<PeriodCheckpointResult> CreateCheckpointAsync(string customerId, TallyScope? scope = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        var members = new Dictionary<string, string> { ["customerId"] = customerId };
        foreach (var (name, value) in scope?.Parameters() ?? [])
        {
            if (value is not null && name is "period" or "timePreset" or "startDate" or "endDate")
            {
                members[name] = value;
            }
        }
        var body = JsonSerializer.SerializeToUtf8Bytes(members, ClientJson.Default.DictionaryStringString);
        return SendAsync(HttpMethod.Post, "api/v1/balance/checkpoint", body, NewIdempotencyKey(),
            WireJson.Default.EnvelopePeriodCheckpointResult, cancellationToken);
    }

    /// <summary>Lists period checkpoints, newest first (<c>GET /api/v1/balance/checkpoints</c>). Retried per policy.</summary>
    public Task<PeriodCheckpointList> ListCheckpointsAsync(string? customerId = null, int? limit = null, long? offset = null,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/balance/checkpoints" + Query(("customerId", customerId),
                ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("offset", offset?.ToString(CultureInfo.InvariantCulture))),
            null, null, WireJson.Default.EnvelopePeriodCheckpointList, cancellationToken);

    /// <summary>Reads one period checkpoint (<c>GET /api/v1/balance/checkpoints/{checkpointId}</c>).</summary>
    public Task<PeriodCheckpointResult> GetCheckpointAsync(string checkpointId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointId);
        return SendAsync(HttpMethod.Get, "api/v1/balance/checkpoints/" + Uri.EscapeDataString(checkpointId), null, null,
            WireJson.Default.EnvelopePeriodCheckpointResult, cancellationToken);
    }

    /// <summary>
    /// The receipt for an invoice: <c>GET /api/v1/balance/receipt/{customerId}</c> when <paramref name="scope"/> is
    /// null (every verified delta), else <c>GET /api/v1/balance/invoice-proof/{customerId}</c> (as the official SDKs
    /// route them). The window's checkpoint is created on first use and the same afterwards.
    /// </summary>
    public Task<ReceiptResult> GetReceiptAsync(string customerId, TallyScope? scope = null, int? limit = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        var path = (scope is null ? "api/v1/balance/receipt/" : "api/v1/balance/invoice-proof/") +
            Uri.EscapeDataString(customerId) +
            Query([.. scope?.Parameters() ?? [], ("limit", limit?.ToString(CultureInfo.InvariantCulture))]);
        return SendAsync(HttpMethod.Get, path, null, null, WireJson.Default.EnvelopeReceiptResult, cancellationToken);
    }

    /// <summary>
    /// The invoice proof of a window (<c>GET /api/v1/balance/invoice-proof/{customerId}</c>, the official SDKs'
    /// <c>invoiceProof</c>): the window's period checkpoint — created on first use, the same one afterwards, so the
    /// call is safe to repeat — with its <c>proofRoot</c>, signed <c>proofToken</c>, balances and a page of its rows.
    /// Retried per policy.
    /// </summary>
    /// <param name="customerId">The customer.</param>
    /// <param name="scope">The window (<see cref="TallyScope.ForPeriod"/> for a monthly invoice); the server applies
    /// derive's scope rules.</param>
    /// <param name="limit">Rows of <see cref="ReceiptResult.Deltas"/>, 1–1000; the server's default (100) when null.
    /// The proof always covers the whole window.</param>
    /// <param name="offset">Rows to skip (≥ 0); 0 when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/> for an unknown customer,
    /// <see cref="TallyErrorKind.Scope"/> or <see cref="TallyErrorKind.Validation"/> for a refused scope
    /// (<c>EMPTY_WINDOW</c> when nothing verified lies in it), or unreachable.</exception>
    public Task<ReceiptResult> GetInvoiceProofAsync(string customerId, TallyScope scope, int? limit = null,
        long? offset = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        ArgumentNullException.ThrowIfNull(scope);
        var path = "api/v1/balance/invoice-proof/" + Uri.EscapeDataString(customerId) + Query([.. scope.Parameters(),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)),
            ("offset", offset?.ToString(CultureInfo.InvariantCulture))]);
        return SendAsync(HttpMethod.Get, path, null, null, WireJson.Default.EnvelopeReceiptResult, cancellationToken);
    }

    /// <summary>
    /// Public verification of a proof root (<c>GET /api/v1/verify/{proofRoot}</c>; no API key needed). The answer
    /// is the server's; check it without trusting the server with <see cref="GetProofBundleAsync"/> and
    /// <see cref="VerifyBundle"/>.
    /// </summary>
    /// <param name="proofRoot"><c>0x</c> + 64 hex: a receipt root or a period checkpoint's root; or a proof token
    /// (<c>tpt1_…</c>), answered as its checkpoint's root once the server has checked the token's signature.</param>
    /// <param name="source"><c>db</c> (default), <c>chain</c> (what the log proves) or <c>both</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/> (<c>PROOF_ROOT_NOT_FOUND</c>).</exception>
    public Task<VerifyResult> VerifyAsync(string proofRoot, string? source = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(proofRoot);
        if (source is not (null or "db" or "chain" or "both"))
        {
            throw new ArgumentException("source must be db, chain or both", nameof(source));
        }
        return SendAsync(HttpMethod.Get, "api/v1/verify/" + Uri.EscapeDataString(proofRoot) + Query(("source", source)),
            null, null, WireJson.Default.EnvelopeVerifyResult, cancellationToken);
    }

    /// <summary>A delta's self-contained proof bundle (<c>GET /api/v1/balance/delta/{recordId}/proof</c>).</summary>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.Conflict"/> (<c>PROOF_NOT_READY</c>) before a
    /// signed checkpoint covers the record; <see cref="TallyErrorKind.NotFound"/>.</exception>
    public Task<ProofBundle> GetProofBundleAsync(string recordId, int index = 0, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recordId);
        return SendAsync(HttpMethod.Get, "api/v1/balance/delta/" + Uri.EscapeDataString(recordId) + "/proof" +
            Query(("index", index.ToString(CultureInfo.InvariantCulture))), null, null,
            WireJson.Default.EnvelopeProofBundle, cancellationToken);
    }

    /// <summary>
    /// Verifies a proof bundle offline against a log key obtained independently of the server (pure; no I/O).
    /// </summary>
    /// <param name="bundle">The bundle.</param>
    /// <param name="logKey">The log's verifier key text, <c>name+keyid+base64</c>.</param>
    /// <returns>The result, with the failed step and a precise reason when it does not verify.</returns>
    /// <exception cref="FormatException"><paramref name="logKey"/> is not a verifier key.</exception>
    public static ProofBundleVerification VerifyBundle(ProofBundle bundle, string logKey)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(logKey);
        return ProofBundleVerifier.Verify(bundle, NoteVerifier.Parse(logKey));
    }

    /// <summary>
    /// Verifies a period checkpoint's proof token (<c>tpt1_…</c>) offline: the log signed the statement it carries.
    /// Returns the statement, or null with the reason in <paramref name="failure"/>.
    /// </summary>
    /// <exception cref="FormatException"><paramref name="logKey"/> is not a verifier key.</exception>
    public static PeriodCheckpoint? VerifyProofToken(string token, string logKey, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(logKey);
        return ProofToken.Verify(token, NoteVerifier.Parse(logKey), out failure);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class ClientJson : System.Text.Json.Serialization.JsonSerializerContext;
