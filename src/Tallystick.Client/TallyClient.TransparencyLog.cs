using System.Globalization;
using Tallystick.Wire;

namespace Tallystick.Client;

// The public transparency log under /log/: no API key needed, so a client without one makes these calls (a client
// with one sends it, and the server ignores it). These calls return what the server says; TransparencyLogMonitor
// checks it against the log key and the checkpoint it holds.
public sealed partial class TallyClient
{
    /// <summary>
    /// The log's latest signed checkpoint note (<c>GET /log/checkpoint</c>), as received: origin, size, base64 root,
    /// a blank line and signature lines. Unverified: check it with <see cref="TransparencyLogMonitor"/> or
    /// <c>Checkpoint.TryVerify</c> and a log key obtained independently of this server. Retried per policy.
    /// </summary>
    /// <exception cref="TallyApiException">Unreachable, or a body that is not UTF-8 text
    /// (<c>UNEXPECTED_RESPONSE</c>).</exception>
    public Task<string> GetLogCheckpointAsync(CancellationToken cancellationToken = default) =>
        GetTextAsync("log/checkpoint", cancellationToken);

    /// <summary>
    /// The log's verifier key as the server publishes it (<c>GET /log/key</c>), without the final newline:
    /// <c>&lt;origin&gt;+&lt;key id&gt;+&lt;base64 key&gt;</c>. Trusting the server for its own key proves nothing
    /// against that server; pin the key out of band (configuration, your contract) and use this only to compare.
    /// Retried per policy.
    /// </summary>
    /// <exception cref="TallyApiException">Unreachable, or a body that is not UTF-8 text.</exception>
    public async Task<string> GetLogKeyAsync(CancellationToken cancellationToken = default) =>
        (await GetTextAsync("log/key", cancellationToken).ConfigureAwait(false)).TrimEnd('\n');

    /// <summary>
    /// The RFC 9162 consistency proof between two published tree sizes (<c>GET /log/proof/consistency</c>).
    /// Unverified: <see cref="TransparencyLogMonitor.VerifyConsistency"/> checks it against two signed checkpoints.
    /// Retried per policy.
    /// </summary>
    /// <param name="fromSize">The older size, 0 ≤ <paramref name="fromSize"/> ≤ <paramref name="toSize"/>.</param>
    /// <param name="toSize">The newer size, at most the latest published checkpoint's.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative size, or <paramref name="fromSize"/> &gt;
    /// <paramref name="toSize"/>.</exception>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.Validation"/>
    /// (<c>TREE_SIZE_NOT_PUBLISHED</c>) for a size beyond the latest checkpoint, or unreachable.</exception>
    public Task<ConsistencyProofResult> GetConsistencyProofAsync(long fromSize, long toSize,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(toSize, fromSize);
        var path = "log/proof/consistency" + Query(("from", fromSize.ToString(CultureInfo.InvariantCulture)),
            ("to", toSize.ToString(CultureInfo.InvariantCulture)));
        return SendAsync(HttpMethod.Get, path, null, null, WireJson.Default.EnvelopeConsistencyProofResult,
            cancellationToken);
    }
}
