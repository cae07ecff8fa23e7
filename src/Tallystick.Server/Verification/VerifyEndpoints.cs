using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Proofs;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Server.TransparencyLog;
using Tallystick.Wire;

namespace Tallystick.Server.Verification;

/// <summary>
/// Public verification, no API key (PacSpace reference §2.14): <c>GET /api/v1/verify/{proofRoot}</c> answers what a
/// proof root proves, from the store (<c>source=db</c>), from the transparency log alone (<c>chain</c>) or both; and
/// <c>GET /verify/{proofRoot}</c> is a self-contained page that fetches that answer and re-checks it in the browser.
/// A root is a read capability: whoever holds it gets this one answer, whichever tenant it belongs to.
/// Everything is read in one read transaction and bounded by the sequencer's published head, so no checkpoint is
/// shown before it is durable.
/// </summary>
internal static class VerifyEndpoints
{
    public const string ApiPrefix = "/api/v1/verify/";
    public const string PagePrefix = "/verify/";

    private const string NotFoundCode = "PROOF_ROOT_NOT_FOUND";

    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Tallystick.Server.Verification.verify-page.html")
            ?? throw new InvalidOperationException("embedded verify page missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static void MapVerify(this IEndpointRouteBuilder app)
    {
        app.MapGet(ApiPrefix + "{proofRoot}", GetVerify).WithName("VerifyProofRoot")
            .Produces<Envelope<VerifyResult>>().Produces<ErrorEnvelope>(400).Produces<ErrorEnvelope>(404);
        app.MapGet(PagePrefix + "{proofRoot}", GetPage).WithName("VerifyPage").ExcludeFromDescription();
    }

    /// <summary>Where an answer comes from (<c>?source=</c>).</summary>
    private enum Source
    {
        Db,
        Chain,
        Both,
    }

    private static Task GetVerify(HttpContext context, string proofRoot, Sequencer sequencer, Database database,
        LogReader log, TallyOptions options)
    {
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        var query = context.Request.Query["source"];
        Source? source = query.Count == 0 ? Source.Db : query.Count > 1 ? null : query[0] switch
        {
            "db" => Source.Db,
            "chain" => Source.Chain,
            "both" => Source.Both,
            _ => null,
        };
        if (source is null)
        {
            return WriteError(context, proofRoot,
                new ApiError("INVALID_QUERY", "'source' must be db, chain or both", "source"));
        }
        // A proof token names its checkpoint's root in a statement signed by the log: it verifies in this one call.
        string? token = null;
        byte[]? root;
        if (proofRoot.StartsWith(ProofToken.Prefix, StringComparison.Ordinal))
        {
            var statement = ProofToken.Verify(proofRoot, sequencer.Verifier, out var failure);
            if (statement is null)
            {
                return WriteError(context, proofRoot, new ApiError(NotFoundCode, failure!, "proofRoot"));
            }
            (token, root) = (proofRoot, statement.ProofRoot);
        }
        else if ((root = VerifiableRoot.TryParse(proofRoot)) is null)
        {
            return WriteError(context, proofRoot, new ApiError(NotFoundCode,
                "not a proof root: expected 0x followed by 64 hex digits, or a proof token tpt1_…", "proofRoot"));
        }
        var head = sequencer.Head;
        VerifyResult? result;
        using (var connection = database.Open())
        using (var transaction = connection.BeginTransaction(deferred: true))
        {
            result = Answer(new VerifyQuery(connection, transaction, root, token, source.Value, head, log,
                sequencer.Verifier, BaseUrl(context, options)));
        }
        return result is null
            ? WriteError(context, proofRoot, new ApiError(NotFoundCode, "no verifiable record has this proof root", "proofRoot"))
            : Responses.Write(context, 200, result, WireJson.Default.EnvelopeVerifyResult);
    }

    private static Task GetPage(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/html; charset=utf-8";
        // The URL holds a read capability: never send it on as a Referer; the page needs nothing from elsewhere.
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers["X-Robots-Tag"] = "noindex";
        response.Headers.ContentSecurityPolicy =
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; " +
            "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        response.Headers.CacheControl = "no-cache";
        response.ContentLength = Page.Value.Length;
        return response.Body.WriteAsync(Page.Value).AsTask();
    }

    private sealed record VerifyQuery(SqliteConnection Connection, SqliteTransaction Transaction, byte[] Root,
        string? Token, Source Source, LogHead Head, LogReader Log, NoteVerifier Key, string BaseUrl);

    private static VerifyResult? Answer(VerifyQuery query)
    {
        if (VerifiableRoot.Resolve(query.Connection, query.Transaction, query.Root) is not { } resolved
            || (query.Token is not null && ProofToken.Encode(resolved.Statement ?? "") != query.Token))
        {
            return null;
        }
        // The snapshot began after the head was read, so it holds everything the head's checkpoint covers.
        var head = query.Head;
        bool covered = resolved.LeafIndex < head.CheckpointSize;
        string status = head.StatusOf(resolved.LeafIndex);
        var (log, entry) = covered ? Evidence(query.Log, resolved, head, query.Key) : (null, null);
        var chain = log is null ? null : CheckChain(resolved, entry, log, head, query.Key);
        string rootHex = Hex(query.Root);
        var links = new VerificationLinks
        {
            VerificationReference = Hex(Rfc6962.HashLeaf(resolved.LogEntry)),
            VerificationApiUrl = query.BaseUrl + ApiPrefix + rootHex,
            VerificationExplorerUrl = query.BaseUrl + PagePrefix + rootHex,
        };
        var result = new VerifyResult
        {
            Verified = covered,
            Status = status,
            ProofRoot = rootHex,
            Kind = resolved.Kind,
            Statement = resolved.Statement,
            Source = query.Source switch { Source.Chain => "chain", Source.Both => "both", _ => "db" },
            RecordedAt = Timestamps.Format(resolved.RecordedAtUnixMs),
            Verification = links,
            Log = log,
            Message = covered
                ? $"a signed checkpoint of the transparency log (size {head.CheckpointSize}) covers this root"
                : $"this root is {status}: no signed checkpoint covers its log entry yet; retry shortly",
        };
        if (query.Source == Source.Chain)
        {
            return result with
            {
                Verified = chain?.Verified ?? false,
                Message = chain?.Message ?? result.Message,
            };
        }
        result = WithStoreView(query, resolved, result, covered);
        if (query.Source == Source.Both)
        {
            bool chainVerified = chain?.Verified ?? false;
            bool agree = chainVerified == covered;
            result = result with
            {
                Verified = covered && chainVerified,
                Sources = new VerifySources { Db = covered, Chain = chainVerified, Agree = agree },
                Message = agree ? result.Message : $"the store and the log disagree: {chain?.Message ?? "no log evidence"}",
            };
        }
        return result;
    }

    // The store's view: summary, item hashes and (if the tenant reveals them) the deltas with their exact item bytes.
    // A period checkpoint's statement names its customer reference anyway, so the answer does too.
    private static VerifyResult WithStoreView(VerifyQuery query, ResolvedRoot resolved, VerifyResult result, bool covered)
    {
        var reveal = RevealSetting.Read(query.Connection, query.Transaction, resolved.TenantId);
        var items = resolved.Items;
        bool showCustomer = reveal == Reveal.Records || resolved.Statement is not null;
        return result with
        {
            Reveal = RevealSetting.Name(reveal),
            CustomerReference = showCustomer ? CustomerReference.Format(resolved.CustomerReference) : null,
            Summary = new VerifySummary
            {
                RecordCount = checked((int)resolved.ItemCount),
                NetChange = resolved.NetChange,
                StartingBalance = resolved.StartingBalance,
                EndingBalance = resolved.EndingBalance,
                FirstRecordAt = Timestamps.Format(resolved.FirstAtUnixMs),
                LastRecordAt = Timestamps.Format(resolved.LastAtUnixMs),
            },
            ItemHashes = items?.Select(i => Hex(i.ItemHash)).ToList(),
            Records = reveal == Reveal.Records && items is not null
                ? items.Select(i => new VerifiedRecord
                {
                    Amount = i.Item.Amount,
                    Reason = i.Item.Reason,
                    ReferenceId = i.Item.ReferenceId,
                    Status = covered ? "verified" : "pending",
                    Time = Timestamps.Format(i.Item.ReceivedAtUnixMs),
                    SequenceNumber = i.Item.Sequence,
                    ItemHash = Hex(i.ItemHash),
                    CanonicalItem = Convert.ToBase64String(i.Item.ToCanonicalBytes()),
                }).ToList()
                : null,
        };
    }

    private static (VerifyLogEvidence? Wire, byte[]? Entry) Evidence(LogReader reader, ResolvedRoot resolved,
        LogHead head, NoteVerifier key)
    {
        var entry = reader.Entry(resolved.LeafIndex);
        var proof = reader.InclusionProof(resolved.LeafIndex, head.CheckpointSize);
        var wire = new VerifyLogEvidence
        {
            Origin = key.Name,
            LeafIndex = resolved.LeafIndex,
            // What the log holds, not what the store expects: a verifier compares the two itself.
            LogLeaf = Convert.ToBase64String(entry ?? []),
            TreeSize = head.CheckpointSize,
            Checkpoint = head.CheckpointNote,
            InclusionProof = proof.Select(Hex).ToList(),
            TlogProof = new TlogProof(resolved.LeafIndex, proof, head.CheckpointNote).Format(),
        };
        return (wire, entry);
    }

    private sealed record ChainVerdict(bool Verified, string Message);

    // What the log alone proves, checked with Core's verifiers exactly as a client would: the entry at the leaf index
    // commits to this root (for a period checkpoint: to its statement, signed by the log's key and naming this root),
    // it is included in the checkpoint's tree, and the checkpoint is signed by the log's key.
    private static ChainVerdict CheckChain(ResolvedRoot resolved, byte[]? entry, VerifyLogEvidence log, LogHead head,
        NoteVerifier key)
    {
        if (resolved.Statement is { } note
            && (!SignedNote.Verify(note, key, out var text).IsValid || PeriodCheckpoint.TryParse(text) is not { } statement
                || !statement.ProofRoot.AsSpan().SequenceEqual(resolved.Root)
                || !statement.LogEntry().AsSpan().SequenceEqual(resolved.LogEntry)))
        {
            return new ChainVerdict(false, "the period checkpoint's statement is not signed by the log for this root");
        }
        if (entry is null || !entry.AsSpan().SequenceEqual(resolved.LogEntry))
        {
            return new ChainVerdict(false, $"log entry {resolved.LeafIndex} does not commit to this root");
        }
        var signature = Checkpoint.TryVerify(head.CheckpointNote, key, key.Name, out var signed);
        if (!signature.IsValid || signed is null)
        {
            return new ChainVerdict(false, $"the checkpoint does not verify: {signature.Error}");
        }
        var inclusion = MerkleProof.VerifyInclusion(log.LeafIndex, signed.Size, Rfc6962.HashLeaf(entry),
            log.InclusionProof.Select(h => Convert.FromHexString(h.AsSpan(2))).ToList(), signed.RootHash);
        return inclusion.IsValid
            ? new ChainVerdict(true,
                $"the log proves it: entry {resolved.LeafIndex} commits to this root and is included in signed checkpoint {signed.Size}")
            : new ChainVerdict(false, $"the inclusion proof does not verify: {inclusion.Error}");
    }

    private static string BaseUrl(HttpContext context, TallyOptions options) =>
        options.PublicUrl is { Length: > 0 } configured
            ? configured.TrimEnd('/')
            : $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}";

    private static Task WriteError(HttpContext context, string proofRoot, ApiError error)
    {
        context.Response.StatusCode = error.HttpStatus;
        var envelope = error.ToEnvelope() with { Verified = false, ProofRoot = proofRoot };
        return Responses.WriteBytes(context, error.HttpStatus,
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(envelope, WireJson.Default.ErrorEnvelope));
    }

    private static string Hex(byte[] bytes) => "0x" + Convert.ToHexStringLower(bytes);
}
