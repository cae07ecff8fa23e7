using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Wire;

namespace Tallystick.Client;

/// <summary>
/// Watches a Tallystick transparency log for rewrites: it remembers the last signed checkpoint it verified and
/// accepts a newer one only when the log key signed it and a consistency proof shows it extends the remembered one
/// (RFC 9162 §2.1.4). A log that shrinks, forks (two signed histories) or answers with a bad proof is reported as
/// a <see cref="TransparencyLogException"/> with a precise <see cref="TransparencyLogFailure"/>, and the remembered
/// checkpoint stays as it was.
/// </summary>
/// <remarks>
/// <para><b>Trust.</b> The log key must come from somewhere other than the server being checked (configuration,
/// your contract with the operator); <see cref="TallyClient.GetLogKeyAsync"/> is only for comparison. The first
/// checkpoint seen without a remembered one is trusted on first use.</para>
/// <para><b>Persistence.</b> Store <see cref="TrustedCheckpointNote"/> (plain text) after each
/// <see cref="UpdateAsync"/> and pass it to the constructor next time: a fork is then detected across restarts,
/// not only within one process.</para>
/// <para><b>Thread-safety.</b> Properties may be read from any thread. <see cref="UpdateAsync"/> is not for
/// concurrent use: a call made while another runs throws <see cref="InvalidOperationException"/>.</para>
/// </remarks>
public sealed class TransparencyLogMonitor
{
    private readonly TallyClient _client;
    private readonly NoteVerifier _logKey;
    private volatile Trust? _trusted;
    private int _updating;

    /// <summary>Creates a monitor for the log behind <paramref name="client"/>.</summary>
    /// <param name="client">The client whose server publishes the log under <c>/log/</c>. Not owned.</param>
    /// <param name="logKey">The log's verifier key, <c>&lt;origin&gt;+&lt;key id&gt;+&lt;base64&gt;</c> (the
    /// origin is the key's name).</param>
    /// <param name="trustedCheckpointNote">A signed checkpoint note verified earlier
    /// (<see cref="TrustedCheckpointNote"/> as persisted), or null to trust the first one fetched.</param>
    /// <exception cref="FormatException"><paramref name="logKey"/> is not a verifier key.</exception>
    /// <exception cref="ArgumentException"><paramref name="trustedCheckpointNote"/> is not signed by
    /// <paramref name="logKey"/> for its origin (altered storage, or another log's checkpoint).</exception>
    public TransparencyLogMonitor(TallyClient client, string logKey, string? trustedCheckpointNote = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(logKey);
        _client = client;
        _logKey = NoteVerifier.Parse(logKey);
        if (trustedCheckpointNote is not null)
        {
            try
            {
                _trusted = new Trust(VerifyCheckpoint(trustedCheckpointNote, _logKey), trustedCheckpointNote);
            }
            catch (TransparencyLogException e)
            {
                throw new ArgumentException($"the trusted checkpoint does not verify: {e.Message}",
                    nameof(trustedCheckpointNote), e);
            }
        }
    }

    /// <summary>The log's origin line (the key's name); every accepted checkpoint carries it.</summary>
    public string Origin => _logKey.Name;

    /// <summary>The last checkpoint verified; null before the first <see cref="UpdateAsync"/> without a
    /// remembered one.</summary>
    public Checkpoint? Trusted => _trusted?.Checkpoint;

    /// <summary>The signed note of <see cref="Trusted"/> exactly as received: persist this text and pass it to the
    /// constructor to keep watching across restarts. Null when nothing is trusted yet.</summary>
    public string? TrustedCheckpointNote => _trusted?.Note;

    /// <summary>
    /// Fetches the log's latest checkpoint (<c>GET /log/checkpoint</c>), verifies its signature, and, when it is
    /// larger than <see cref="Trusted"/>, fetches and verifies a consistency proof between the two
    /// (<c>GET /log/proof/consistency</c>); then trusts it.
    /// </summary>
    /// <param name="cancellationToken">Cancels the fetches.</param>
    /// <returns>The checkpoints before and after; <see cref="TransparencyLogUpdate.Grew"/> says whether the trusted
    /// checkpoint moved.</returns>
    /// <exception cref="TransparencyLogException">The checkpoint or proof failed a check; see
    /// <see cref="TransparencyLogException.Failure"/>. <see cref="Trusted"/> is unchanged.</exception>
    /// <exception cref="TallyApiException">The server could not be reached or refused a fetch.</exception>
    /// <exception cref="InvalidOperationException">Another <see cref="UpdateAsync"/> is running.</exception>
    public async Task<TransparencyLogUpdate> UpdateAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _updating, 1) == 1)
        {
            throw new InvalidOperationException("UpdateAsync is already running on this monitor");
        }
        try
        {
            var trusted = _trusted;
            var note = await _client.GetLogCheckpointAsync(cancellationToken).ConfigureAwait(false);
            Checkpoint latest;
            try
            {
                latest = VerifyCheckpoint(note, _logKey);
            }
            catch (TransparencyLogException e)
            {
                throw new TransparencyLogException(e.Failure, e.Message, trusted?.Checkpoint, null, note);
            }
            if (trusted is null)
            {
                _trusted = new Trust(latest, note);
                return new TransparencyLogUpdate(null, latest, note);
            }
            var proof = latest.Size > trusted.Checkpoint.Size
                ? await _client.GetConsistencyProofAsync(trusted.Checkpoint.Size, latest.Size, cancellationToken)
                    .ConfigureAwait(false)
                : null;
            if (Check(trusted.Checkpoint, latest, proof) is { } failure)
            {
                throw new TransparencyLogException(failure.Failure, failure.Reason, trusted.Checkpoint, latest, note);
            }
            if (latest.Size > trusted.Checkpoint.Size)
            {
                _trusted = new Trust(latest, note);
            }
            return new TransparencyLogUpdate(trusted.Checkpoint, latest, note);
        }
        finally
        {
            Volatile.Write(ref _updating, 0);
        }
    }

    /// <summary>Verifies a signed checkpoint note against the log key, for the origin the key names (pure).
    /// </summary>
    /// <param name="signedNote">The note as received.</param>
    /// <param name="logKey">The log's key.</param>
    /// <returns>The checkpoint.</returns>
    /// <exception cref="TransparencyLogException"><see cref="TransparencyLogFailure.CheckpointSignatureInvalid"/>,
    /// with the signature, format or origin problem.</exception>
    public static Checkpoint VerifyCheckpoint(string signedNote, NoteVerifier logKey)
    {
        ArgumentNullException.ThrowIfNull(signedNote);
        ArgumentNullException.ThrowIfNull(logKey);
        var result = Checkpoint.TryVerify(signedNote, logKey, logKey.Name, out var checkpoint);
        return result.IsValid
            ? checkpoint!
            : throw new TransparencyLogException(TransparencyLogFailure.CheckpointSignatureInvalid,
                $"the checkpoint is not signed by {logKey.Name}+{logKey.KeyId:x8}: {result.Error}", null, null,
                signedNote);
    }

    /// <summary>
    /// Checks offline that <paramref name="latest"/> extends <paramref name="trusted"/> (pure; both already
    /// signature-checked, e.g. by <see cref="VerifyCheckpoint"/>): a smaller tree is a rewind, the same size needs
    /// the same root, and a larger one needs a consistency proof between exactly these sizes that recomputes both
    /// roots.
    /// </summary>
    /// <param name="trusted">The older checkpoint the caller trusts.</param>
    /// <param name="latest">The checkpoint to accept.</param>
    /// <param name="proof">The proof from <see cref="TallyClient.GetConsistencyProofAsync"/>; required when
    /// <paramref name="latest"/> is larger, ignored otherwise.</param>
    /// <exception cref="TransparencyLogException"><see cref="TransparencyLogFailure.TreeShrank"/>,
    /// <see cref="TransparencyLogFailure.Forked"/> or <see cref="TransparencyLogFailure.ConsistencyProofInvalid"/>,
    /// with sizes and roots in the message.</exception>
    /// <exception cref="ArgumentException">The checkpoints have different origins (two different logs).</exception>
    public static void VerifyConsistency(Checkpoint trusted, Checkpoint latest, ConsistencyProofResult? proof)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        ArgumentNullException.ThrowIfNull(latest);
        if (!string.Equals(trusted.Origin, latest.Origin, StringComparison.Ordinal))
        {
            throw new ArgumentException($"checkpoints of two logs: \"{trusted.Origin}\" and \"{latest.Origin}\"",
                nameof(latest));
        }
        if (Check(trusted, latest, proof) is { } failure)
        {
            throw new TransparencyLogException(failure.Failure, failure.Reason, trusted, latest, null);
        }
    }

    /// <summary>The consistency decision as a value: null when <paramref name="latest"/> extends
    /// <paramref name="trusted"/>.</summary>
    private static (TransparencyLogFailure Failure, string Reason)? Check(Checkpoint trusted, Checkpoint latest,
        ConsistencyProofResult? proof)
    {
        if (latest.Size < trusted.Size)
        {
            return (TransparencyLogFailure.TreeShrank, $"the log shrank from {trusted.Size} to {latest.Size} " +
                "entries: an append-only log never does");
        }
        if (latest.Size == trusted.Size)
        {
            return latest.RootHash.AsSpan().SequenceEqual(trusted.RootHash)
                ? null
                : (TransparencyLogFailure.Forked, $"two signed checkpoints of size {latest.Size} with different " +
                    $"roots: trusted {Hex(trusted.RootHash)}, latest {Hex(latest.RootHash)}");
        }
        if (proof is null)
        {
            return (TransparencyLogFailure.ConsistencyProofInvalid,
                $"no consistency proof from {trusted.Size} to {latest.Size}");
        }
        return CheckProof(trusted, latest, proof);
    }

    private static (TransparencyLogFailure Failure, string Reason)? CheckProof(Checkpoint trusted, Checkpoint latest,
        ConsistencyProofResult proof)
    {
        const TransparencyLogFailure invalid = TransparencyLogFailure.ConsistencyProofInvalid;
        if (proof.From != trusted.Size || proof.To != latest.Size)
        {
            return (invalid, $"the proof is from {proof.From} to {proof.To}, want {trusted.Size} to {latest.Size}");
        }
        var fromRoot = ParseHash(proof.FromRootHash);
        var toRoot = ParseHash(proof.ToRootHash);
        var path = proof.Proof?.Select(ParseHash).ToList();
        if (fromRoot is null || toRoot is null || path is null || path.Any(hash => hash is null))
        {
            return (invalid, "the proof has a hash that is not 0x + 64 hex");
        }
        if (!toRoot.AsSpan().SequenceEqual(latest.RootHash))
        {
            return (invalid,
                $"the proof ends at root {Hex(toRoot)}, not the signed checkpoint's {Hex(latest.RootHash)}");
        }
        var hashes = path.Select(hash => hash!).ToList();
        var fromTrusted = MerkleProof.VerifyConsistency(trusted.Size, latest.Size, trusted.RootHash, toRoot, hashes);
        if (fromTrusted.IsValid)
        {
            return null;
        }
        // The proof may still link the signed latest tree to another root of the trusted size: then the log signed
        // a history in which the trusted checkpoint never existed (a fork), and the proof shows which.
        if (!fromRoot.AsSpan().SequenceEqual(trusted.RootHash) &&
            MerkleProof.VerifyConsistency(trusted.Size, latest.Size, fromRoot, toRoot, hashes).IsValid)
        {
            return (TransparencyLogFailure.Forked, $"the signed tree of size {latest.Size} extends a tree of size " +
                $"{trusted.Size} with root {Hex(fromRoot)}, not the trusted root {Hex(trusted.RootHash)}");
        }
        return (invalid, $"the proof from {trusted.Size} to {latest.Size} does not verify: {fromTrusted.Error}");
    }

    private static byte[]? ParseHash(string? text)
    {
        if (text is not { Length: 2 + (2 * Rfc6962.HashSize) } || !text.StartsWith("0x", StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            return Convert.FromHexString(text.AsSpan(2));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string Hex(byte[] hash) => "0x" + Convert.ToHexStringLower(hash);

    private sealed record Trust(Checkpoint Checkpoint, string Note);
}

/// <summary>The outcome of a successful <see cref="TransparencyLogMonitor.UpdateAsync"/>.</summary>
/// <param name="Previous">The checkpoint trusted before; null on first use.</param>
/// <param name="Latest">The log's latest checkpoint, verified (now trusted unless it equals
/// <paramref name="Previous"/>).</param>
/// <param name="LatestNote">Its signed note as received.</param>
public sealed record TransparencyLogUpdate(Checkpoint? Previous, Checkpoint Latest, string LatestNote)
{
    /// <summary>True when the trusted checkpoint moved: first use, or the log grew.</summary>
    public bool Grew => Previous is null || Latest.Size > Previous.Size;
}
