using System.Runtime.InteropServices;
using Tallystick.Wire;

namespace Tallystick.Server.Reconciliation;

/// <summary>A verified delta of the window, as the record-level compare needs it.</summary>
internal readonly record struct LedgerDelta(long Sequence, long AmountUnits, string? ReferenceId, long ReceivedAtMs);

/// <summary>One party's record with its time parsed (null when the party gave none).</summary>
internal readonly record struct PartyRecord(string ReferenceId, Amount Amount, long? TimeMs);

/// <summary>
/// Record-level compare: one pass over the ledger window in sequence order, hash-joined on referenceId with each
/// party's view. Neutral: every finding says how a view departs from the verified record, never who is right.
/// </summary>
/// <remarks>
/// Per ledger delta and per view: absent → <c>missing_from_{view}</c>; present with another amount →
/// <c>amount_mismatch</c>; listed more than once → <c>duplicate</c> (the first listing is the one matched).
/// After the pass, view records the ledger window lacks are <c>missing_from_ledger</c>, placed by their
/// <c>time</c> among the ledger's acceptance times (after deltas of the same millisecond), or last without one.
/// The first divergence is the earliest finding in that order. Cost: O(ledger + views), memory O(views).
/// </remarks>
internal sealed class RecordComparison
{
    private const string Yours = "yours";
    private const string Theirs = "theirs";

    private readonly View? _yours;
    private readonly View? _theirs;
    private readonly List<(long Position, Discrepancy Finding)> _findings = [];
    private readonly List<long> _ledgerTimes = [];
    private readonly long _firstSequence;
    private long _confirmed;
    private long _ledgerCount;

    /// <summary>Compares views with the ledger window that starts at sequence number <paramref name="firstSequence"/>.</summary>
    public RecordComparison(long firstSequence, IReadOnlyList<PartyRecord>? yours, IReadOnlyList<PartyRecord>? theirs)
    {
        _firstSequence = firstSequence;
        _yours = yours is null ? null : new View(Yours, yours);
        _theirs = theirs is null ? null : new View(Theirs, theirs);
    }

    /// <summary>Adds the next ledger delta; requires sequence order.</summary>
    public void Add(LedgerDelta delta)
    {
        _ledgerCount++;
        _ledgerTimes.Add(delta.ReceivedAtMs);
        var ledgerAmount = Amount.FromUnits(delta.AmountUnits);
        var mine = Check(_yours, delta, ledgerAmount);
        var theirs = Check(_theirs, delta, ledgerAmount);
        if (mine && theirs)
        {
            _confirmed++;
        }
    }

    private bool Check(View? view, LedgerDelta delta, Amount ledgerAmount)
    {
        if (view is null)
        {
            return true;
        }
        var time = Timestamps.Format(delta.ReceivedAtMs);
        var position = delta.Sequence * 2;
        if (delta.ReferenceId is null || !view.Index.TryGetValue(delta.ReferenceId, out var slot))
        {
            _findings.Add((position, new Discrepancy
            {
                Kind = "missing_from_" + view.Name, Party = view.Name, ReferenceId = delta.ReferenceId,
                SequenceNumber = delta.Sequence, LedgerAmount = ledgerAmount, Time = time,
            }));
            return false;
        }
        view.Seen[slot] = true;
        var record = view.Records[slot];
        var ok = true;
        if (record.Amount != ledgerAmount)
        {
            _findings.Add((position, WithAmount(view, new Discrepancy
            {
                Kind = "amount_mismatch", Party = view.Name, ReferenceId = delta.ReferenceId,
                SequenceNumber = delta.Sequence, LedgerAmount = ledgerAmount, Time = time,
            }, record.Amount)));
            ok = false;
        }
        if (view.Occurrences[slot] > 1)
        {
            _findings.Add((position, WithAmount(view, new Discrepancy
            {
                Kind = "duplicate", Party = view.Name, ReferenceId = delta.ReferenceId, SequenceNumber = delta.Sequence,
                LedgerAmount = ledgerAmount, Occurrences = view.Occurrences[slot], Time = time,
            }, record.Amount)));
            ok = false;
        }
        return ok;
    }

    public long Confirmed => _confirmed;

    public long LedgerCount => _ledgerCount;

    /// <summary>Adds the records the ledger lacks; returns every finding in ledger order and the first divergence.</summary>
    public (List<Discrepancy> Findings, Divergence? First) Finish()
    {
        foreach (var view in new[] { _yours, _theirs })
        {
            if (view is null)
            {
                continue;
            }
            for (var slot = 0; slot < view.Records.Count; slot++)
            {
                if (view.Seen[slot])
                {
                    continue;
                }
                var record = view.Records[slot];
                var position = PositionOf(record.TimeMs);
                var time = record.TimeMs is { } t ? Timestamps.Format(t) : null;
                _findings.Add((position, WithAmount(view, new Discrepancy
                {
                    Kind = "missing_from_ledger", Party = view.Name, ReferenceId = record.ReferenceId, Time = time,
                }, record.Amount)));
                if (view.Occurrences[slot] > 1)
                {
                    _findings.Add((position, WithAmount(view, new Discrepancy
                    {
                        Kind = "duplicate", Party = view.Name, ReferenceId = record.ReferenceId,
                        Occurrences = view.Occurrences[slot], Time = time,
                    }, record.Amount)));
                }
            }
        }
        // Stable: within one position, the order of discovery (yours before theirs, missing before duplicate).
        var ordered = _findings.Select((f, i) => (f.Position, f.Finding, i)).OrderBy(x => x.Position).ThenBy(x => x.i)
            .ToList();
        if (ordered.Count == 0)
        {
            return ([], null);
        }
        var (firstPosition, first, _) = ordered[0];
        var divergence = new Divergence
        {
            // A record the ledger lacks sits at position 2s − 1: just before ledger sequence number s.
            SequenceNumber = first.SequenceNumber ?? (firstPosition == long.MaxValue ? null : (firstPosition + 1) / 2),
            ReferenceId = first.ReferenceId, Time = first.Time, Kind = first.Kind, Party = first.Party,
        };
        return (ordered.Select(x => x.Finding).ToList(), divergence);
    }

    /// <summary>Position of a record the ledger lacks: just before the first ledger delta accepted after its time;
    /// without a time, after everything.</summary>
    private long PositionOf(long? timeMs) => timeMs is { } t ? SequenceAt(t) * 2 - 1 : long.MaxValue;

    private long SequenceAt(long timeMs)
    {
        // Acceptance times never go backwards, so the window's times are sorted: binary search for the first > t.
        int low = 0, high = _ledgerTimes.Count;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (_ledgerTimes[mid] <= timeMs)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        return _firstSequence + low;
    }

    private static Discrepancy WithAmount(View view, Discrepancy finding, Amount amount) =>
        view.Name == Yours ? finding with { YourAmount = amount } : finding with { TheirAmount = amount };

    /// <summary>A party's view indexed by referenceId: the first listing of each, and how many times it is listed.</summary>
    private sealed class View
    {
        public View(string name, IReadOnlyList<PartyRecord> records)
        {
            Name = name;
            Index = new Dictionary<string, int>(records.Count, StringComparer.Ordinal);
            var firsts = new List<PartyRecord>(records.Count);
            var occurrences = new List<int>(records.Count);
            foreach (var record in records)
            {
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(Index, record.ReferenceId, out var exists);
                if (exists)
                {
                    occurrences[slot]++;
                    continue;
                }
                slot = firsts.Count;
                firsts.Add(record);
                occurrences.Add(1);
            }
            Records = firsts;
            Occurrences = occurrences;
            Seen = new bool[firsts.Count];
        }

        public string Name { get; }

        public Dictionary<string, int> Index { get; }

        public List<PartyRecord> Records { get; }

        public List<int> Occurrences { get; }

        public bool[] Seen { get; }
    }
}
