using Tallystick.Server.Balances;
using Tallystick.Wire;

namespace Tallystick.Server.Reconciliation;

/// <summary>A compare request after validation: the balances, tolerance and parsed record views.</summary>
internal sealed record ParsedCompare(
    ApiError? Error,
    Amount? Theirs = null,
    IReadOnlyList<PartyRecord>? YourRecords = null,
    IReadOnlyList<PartyRecord>? TheirRecords = null)
{
    public bool HasRecords => YourRecords is not null || TheirRecords is not null;

    public static ParsedCompare Fail(ApiError error) => new(error);

    /// <summary>Field rules in order: customerId present, something to compare, the balance alias, tolerance, records.</summary>
    public static ParsedCompare Validate(CompareRequest request)
    {
        if (request.CustomerId is null)
        {
            return Fail(new ApiError("MISSING_FIELD", "'customerId' is required", "customerId"));
        }
        if (request is { YourBalance: null, TheirBalance: null, CounterpartyBalance: null, YourRecords: null,
            TheirRecords: null })
        {
            return Fail(new ApiError("MISSING_FIELD",
                "give yourBalance and/or theirBalance (alias counterpartyBalance), or yourRecords and/or theirRecords",
                "yourBalance"));
        }
        if (request.TheirBalance is { } a && request.CounterpartyBalance is { } b && a != b)
        {
            return Fail(new ApiError("INVALID_BODY",
                "theirBalance and its alias counterpartyBalance are both given and differ", "counterpartyBalance"));
        }
        if (request.Tolerance is { } tolerance &&
            (tolerance.Absolute < Amount.Zero || tolerance.Relative < Amount.Zero))
        {
            return Fail(new ApiError("INVALID_TOLERANCE", "tolerance.absolute and tolerance.relative must be ≥ 0",
                "tolerance"));
        }
        var (yours, badYours) = Records(request.YourRecords, "yourRecords");
        var (theirs, badTheirs) = Records(request.TheirRecords, "theirRecords");
        return (badYours ?? badTheirs) is { } bad
            ? Fail(bad)
            : new ParsedCompare(null, request.TheirBalance ?? request.CounterpartyBalance, yours, theirs);
    }

    private static (List<PartyRecord>?, ApiError?) Records(IReadOnlyList<CompareRecord>? records, string field)
    {
        if (records is null)
        {
            return (null, null);
        }
        if (records.Count > Limits.CompareRecordsMax)
        {
            return (null, new ApiError("TOO_MANY_RECORDS",
                $"'{field}' holds {records.Count} records; at most {Limits.CompareRecordsMax} per request (narrow the " +
                "scope, or bisect with GET /compare/{customerId}/windows)", field));
        }
        var parsed = new List<PartyRecord>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            if (record.ReferenceId.Length is 0 or > Limits.ReferenceIdCharsMax)
            {
                return (null, new ApiError("INVALID_REFERENCE_ID",
                    $"a referenceId has 1 to {Limits.ReferenceIdCharsMax} characters", $"{field}[{i}].referenceId"));
            }
            long? timeMs = null;
            if (record.Time is { } text)
            {
                if (Scope.ParseDate(text) is not { } time)
                {
                    return (null, new ApiError("INVALID_DATE", "a record's time must be ISO 8601", $"{field}[{i}].time"));
                }
                timeMs = time.ToUnixTimeMilliseconds();
            }
            parsed.Add(new PartyRecord(record.ReferenceId, record.Amount, timeMs));
        }
        return (parsed, null);
    }
}

/// <summary>Builds the compare answer: balance verdicts against the neutral balance, then the record-level pass.</summary>
internal static class BalanceCompare
{
    public static CompareResult Build(CompareRequest request, ParsedCompare parsed, ScopeWindow window,
        List<BalanceBucket>? breakdown, CheckpointInfo checkpoint, IEnumerable<LedgerDelta>? ledger)
    {
        var neutral = window.Balance;
        var yours = request.YourBalance;
        var theirs = parsed.Theirs;
        var findings = new List<Discrepancy>();
        foreach (var (party, balance) in new[] { ("yours", yours), ("theirs", theirs) })
        {
            if (balance is { } value && value != neutral)
            {
                findings.Add(new Discrepancy
                {
                    Kind = "balance_differs", Party = party, LedgerAmount = neutral,
                    YourAmount = party == "yours" ? value : null, TheirAmount = party == "theirs" ? value : null,
                });
            }
        }
        RecordComparison? records = null;
        Divergence? first = null;
        if (ledger is not null)
        {
            records = new RecordComparison(window.FromSequence, parsed.YourRecords, parsed.TheirRecords);
            foreach (var delta in ledger)
            {
                records.Add(delta);
            }
            var (recordFindings, divergence) = records.Finish();
            findings.AddRange(recordFindings);
            first = divergence;
        }
        var counts = findings.GroupBy(f => f.Kind, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        var within = Within(yours, neutral, request.Tolerance) && Within(theirs, neutral, request.Tolerance);
        return new CompareResult
        {
            CustomerId = request.CustomerId!,
            Match = findings.Count == 0,
            MatchesYours = yours is { } y ? y == neutral : null,
            MatchesTheirs = theirs is { } t ? t == neutral : null,
            NeutralBalance = neutral,
            YourBalance = yours,
            TheirBalance = theirs,
            YourDifference = yours - neutral,
            TheirDifference = theirs - neutral,
            WithinTolerance = within,
            DeltaCount = window.Count,
            Window = BalanceEndpoints.Describe(window),
            Checkpoint = checkpoint,
            Breakdown = breakdown,
            Confirmed = records?.Confirmed,
            Records = records is null ? null : new RecordCounts
            {
                Ledger = records.LedgerCount,
                Yours = parsed.YourRecords?.Count,
                Theirs = parsed.TheirRecords?.Count,
            },
            DiscrepancyCounts = counts,
            Discrepancies = findings.Count > Limits.CompareDiscrepanciesMax
                ? findings.GetRange(0, Limits.CompareDiscrepanciesMax)
                : findings,
            DiscrepanciesTruncated = findings.Count > Limits.CompareDiscrepanciesMax,
            FirstDivergence = first,
            Message = Message(yours, theirs, neutral, findings.Count, first),
        };
    }

    /// <summary>Within tolerance: |difference| ≤ absolute, or ≤ relative × |neutral|; exact without a tolerance.</summary>
    private static bool Within(Amount? balance, Amount neutral, CompareTolerance? tolerance)
    {
        if (balance is not { } value)
        {
            return true;
        }
        var difference = (value - neutral).Abs();
        return difference.IsZero ||
            (tolerance?.Absolute is { } absolute && difference <= absolute) ||
            (tolerance?.Relative is { } relative && difference.Value <= relative.Value * neutral.Abs().Value);
    }

    /// <summary>Neutral wording: what matches the verified record, never who is right.</summary>
    private static string Message(Amount? yours, Amount? theirs, Amount neutral, int findings, Divergence? first)
    {
        static string Side(string who, Amount? balance, Amount neutral) => balance is not { } value
            ? ""
            : value == neutral
                ? $"{who} balance matches the verified record ({neutral}). "
                : $"{who} balance differs from the verified record ({neutral}) by {value - neutral}. ";
        var text = Side("Your", yours, neutral) + Side("Their", theirs, neutral);
        if (findings == 0)
        {
            return text + "No discrepancies with the verified record.";
        }
        return text + $"{findings} discrepancies with the verified record" + (first is null
            ? "."
            : $"; the first is at sequence number {first.SequenceNumber?.ToString() ?? "(after the window)"}" +
              $" ({first.Kind}{(first.ReferenceId is null ? "" : ", referenceId " + first.ReferenceId)}).");
    }
}
