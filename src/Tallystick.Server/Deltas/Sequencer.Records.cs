using Microsoft.Extensions.Logging;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tallystick.Deltas;
using Tallystick.Merkle;
using Tallystick.Wire;

namespace Tallystick.Server.Deltas;

internal sealed partial class Sequencer
{
    private readonly List<CustomerState> _pendingNewCustomers = [];

    /// <summary>
    /// referenceIds placed in the open transaction, across all its requests: the unique index would otherwise be
    /// the first to notice a duplicate (and fail the whole group commit).
    /// </summary>
    private readonly Dictionary<(long Number, string Text), Placed> _transactionReferences = new(KeyComparer.Instance);

    /// <summary>A delta placed in this transaction (new) or found from an earlier one (repeated referenceId).</summary>
    private sealed class Placed
    {
        public required CustomerState Customer { get; init; }
        public required DeltaDraft Draft { get; init; }
        public long DeltaId { get; set; }
        public long Seq { get; init; }
        public byte[] ItemHash { get; set; } = [];
        public RecordBuilder? Record { get; init; }
        public ExistingDelta? Existing { get; init; }
        public long AcceptedAt { get; init; }

        /// <summary>This delta's salt, drawn when the request was parsed (see <see cref="WorkItem.Salts"/>).</summary>
        public ReadOnlyMemory<byte> Salt { get; init; }
    }

    private sealed class RecordBuilder(CustomerState customer, long firstSeq)
    {
        public CustomerState Customer { get; } = customer;
        public long FirstSeq { get; } = firstSeq;
        public List<Placed> Deltas { get; } = [];
        public long Id { get; set; }
        public long LeafIndex { get; set; }
        public byte[] Receipt { get; set; } = [];
        public Amount BalanceAfter { get; set; }
    }

    internal sealed record ExistingDelta(long DeltaId, long Seq, long RecordId, byte[] ItemHash, byte[] Receipt,
        long LeafIndex, DeltaDraft Draft, long AcceptedAt);

    /// <summary>
    /// Sequences one request inside the open transaction; returns how to render its answer. Only a request with
    /// an Idempotency-Key is rendered here, because its answer is stored in the same transaction.
    /// </summary>
    private Func<Answer> Sequence(WorkItem item, long acceptedAt, List<byte[]> sequenced)
    {
        var outcomes = new object[item.Items.Count]; // Placed or ApiError
        var records = new Dictionary<string, RecordBuilder>(StringComparer.Ordinal);
        var seenReferences = _transactionReferences;
        for (var i = 0; i < item.Items.Count; i++)
        {
            var parsed = item.Items[i];
            outcomes[i] = parsed.Draft is { } draft
                ? Place(item, i, draft, acceptedAt, records, seenReferences)
                : parsed.Error!;
        }
        foreach (var record in records.Values)
        {
            WriteRecord(record, acceptedAt, sequenced);
        }
        var recordCount = records.Count;
        Answer Render() => item.IsBatch ? RenderBatch(item, outcomes, recordCount) : RenderSingle(outcomes[0]);
        if (item.IdempotencyKey is null)
        {
            return Render;
        }
        var answer = Render();
        _commands!.InsertIdempotencyKey(item.Plane.Id, item.IdempotencyKey, item.Fingerprint!, answer, acceptedAt);
        return () => answer;
    }

    private object Place(WorkItem item, int index, DeltaDraft draft, long acceptedAt,
        Dictionary<string, RecordBuilder> records, Dictionary<(long Number, string Text), Placed> seenReferences)
    {
        var customer = GetOrCreateCustomer(item.Plane, draft.CustomerId, acceptedAt);
        if (draft.ReferenceId is { } reference)
        {
            var earlier = seenReferences.GetValueOrDefault((customer.Key, reference));
            if (earlier is null && !customer.IsNew && _commands!.ReferenceExists(customer.Key, reference) &&
                _commands.FindByReference(customer.Key, reference) is { } found)
            {
                earlier = new Placed { Customer = customer, Draft = found.Draft with { CustomerId = draft.CustomerId }, Seq = found.Seq, Existing = found,
                    AcceptedAt = found.AcceptedAt };
            }
            if (earlier is not null)
            {
                return earlier.Draft.SameContentAs(draft)
                    ? new Placed { Customer = customer, Draft = earlier.Draft, Seq = earlier.Seq,
                        Existing = earlier.Existing, Record = earlier.Record, AcceptedAt = earlier.AcceptedAt }
                    : new ApiError("REFERENCE_ID_CONFLICT",
                        $"referenceId '{reference}' was already recorded for customer '{draft.CustomerId}' " +
                        "with a different delta, reason or metadata; corrections are new deltas", "referenceId");
            }
        }
        var balance = customer.Balance + draft.Amount;
        if (balance.Abs() > Limits.BalanceAbsMax)
        {
            return new ApiError("BALANCE_LIMIT_EXCEEDED",
                $"this delta would take the balance of '{draft.CustomerId}' beyond ±{Limits.BalanceAbsMax}", "delta");
        }
        if (!records.TryGetValue(draft.CustomerId, out var record))
        {
            record = new RecordBuilder(customer, customer.NextSeq);
            records.Add(draft.CustomerId, record);
        }
        var placed = new Placed { Customer = customer, Draft = draft, Seq = customer.NextSeq, Record = record,
            AcceptedAt = acceptedAt, Salt = item.Salt(index) };
        customer.NextSeq++;
        customer.Balance = balance;
        record.BalanceAfter = balance;
        record.Deltas.Add(placed);
        if (draft.ReferenceId is { } r)
        {
            seenReferences[(customer.Key, r)] = placed;
        }
        return placed;
    }

    private void WriteRecord(RecordBuilder record, long acceptedAt, List<byte[]> sequenced)
    {
        record.Id = _nextRecordId++;
        record.LeafIndex = _range.Size + _unintegrated.Count + sequenced.Count;
        var hashes = new List<byte[]>(record.Deltas.Count);
        var firstDeltaId = _nextDeltaId;
        var net = Amount.Zero;
        foreach (var placed in record.Deltas)
        {
            placed.DeltaId = _nextDeltaId++;
            var salt = placed.Salt.ToArray();
            var canonical = new DeltaItem(placed.Draft.Amount, record.Customer.ReferenceText, placed.Draft.MetadataJson,
                placed.Draft.Reason, acceptedAt, placed.Draft.ReferenceId, salt, placed.Seq);
            placed.ItemHash = canonical.ItemHash();
            hashes.Add(placed.ItemHash);
            net += placed.Draft.Amount;
            _commands!.InsertDelta(placed.DeltaId, record.Customer.Key, placed.Seq, record.Id, placed.Draft, salt,
                placed.ItemHash, acceptedAt);
        }
        record.Receipt = MerkleTree.RootFromLeafHashes(hashes);
        var entry = ReceiptLogEntry.Create(record.Receipt, acceptedAt);
        _commands!.InsertRecord(record.Id, record.Customer, record.LeafIndex, record.Receipt, firstDeltaId,
            record.FirstSeq, record.Deltas.Count, net, record.BalanceAfter, acceptedAt);
        _commands.InsertLogEntry(record.LeafIndex, entry);
        sequenced.Add(Rfc6962.HashLeaf(entry));
    }

    private CustomerState GetOrCreateCustomer(Tenants.Plane plane, string customerId, long acceptedAt)
    {
        if (_customers.TryGetValue((plane.Id, customerId), out var cached))
        {
            return cached;
        }
        var state = _commands!.LoadCustomer(plane.Id, customerId);
        if (state is null)
        {
            state = new CustomerState(_nextCustomerKey++, plane.Id, customerId,
                CustomerReference.Derive(plane.ReferenceKey, customerId), acceptedAt) { IsNew = true };
            _commands.InsertCustomer(state);
            _pendingNewCustomers.Add(state);
        }
        _customers[(plane.Id, customerId)] = state;
        return state;
    }

    private Answer RenderSingle(object outcome)
    {
        if (outcome is ApiError error)
        {
            return new Answer(error.HttpStatus,
                JsonSerializer.SerializeToUtf8Bytes(error.ToEnvelope(), WireJson.Default.ErrorEnvelope));
        }
        var placed = (Placed)outcome;
        var view = View(placed);
        var result = new EmitResult
        {
            RecordId = view.RecordId,
            AnchorId = view.RecordId,
            CustomerId = placed.Draft.CustomerId,
            Delta = placed.Draft.Amount,
            Status = view.Status,
            ReceiptId = view.Receipt,
            ItemsRoot = view.Receipt,
            ItemHashes = view.ItemHashes,
            ItemHash = Hex(view.ItemHash),
            SequenceNumber = placed.Seq,
            Index = view.DeltaId - 1,
            ReceivedAt = Timestamps.Format(placed.AcceptedAt),
            EstimatedVerifiedDeltas = 1,
            Idempotent = view.Idempotent ? true : null,
            Message = view.Idempotent
                ? "This (customerId, referenceId) was already recorded; this is the original record."
                : "Delta queued for verification. Store receiptId for later proof generation.",
        };
        return new Answer(view.Idempotent ? 200 : 201,
            JsonSerializer.SerializeToUtf8Bytes(new Envelope<EmitResult>(true, result), WireJson.Default.EnvelopeEmitResult));
    }

    private Answer RenderBatch(WorkItem item, object[] outcomes, int recordCount)
    {
        var results = new List<BatchItemResult>(outcomes.Length);
        int queued = 0, failed = 0, created = 0;
        for (var i = 0; i < outcomes.Length; i++)
        {
            var parsed = item.Items[i];
            if (outcomes[i] is ApiError error)
            {
                failed++;
                results.Add(new BatchItemResult
                {
                    Index = i, CustomerId = parsed.CustomerId, Delta = parsed.Amount, Status = "FAILED",
                    Error = error.Code, Message = error.Message, Field = error.Field,
                });
                continue;
            }
            var placed = (Placed)outcomes[i];
            var view = View(placed);
            queued++;
            created += view.Idempotent ? 0 : 1;
            results.Add(new BatchItemResult
            {
                Index = i, CustomerId = placed.Draft.CustomerId, Delta = placed.Draft.Amount,
                RecordId = view.RecordId, AnchorId = view.RecordId, ItemHash = Hex(view.ItemHash),
                ReceiptId = view.Receipt, SequenceNumber = placed.Seq, Status = view.Status,
                Idempotent = view.Idempotent ? true : null,
            });
        }
        var result = new BatchEmitResult
        {
            TotalQueued = queued,
            TotalFailed = failed,
            Results = results,
            Efficiency = new BatchEfficiency
            {
                UniqueCustomers = recordCount,
                TotalDeltas = outcomes.Length,
                EstimatedSlots = recordCount,
                Message = $"{created} delta(s) packed into {recordCount} verified operation(s)",
            },
        };
        return new Answer(created > 0 ? 201 : 200,
            JsonSerializer.SerializeToUtf8Bytes(new Envelope<BatchEmitResult>(true, result),
                WireJson.Default.EnvelopeBatchEmitResult));
    }

    private sealed record PlacedView(string RecordId, string Receipt, byte[] ItemHash, long DeltaId,
        IReadOnlyList<string> ItemHashes, string Status, bool Idempotent);

    /// <summary>How a placed delta reads in an answer: new ones are QUEUED; repeats report their current status.</summary>
    private PlacedView View(Placed placed)
    {
        if (placed.Existing is { } e)
        {
            return new PlacedView(RecordIds.Format(e.RecordId), Hex(e.Receipt), e.ItemHash, e.DeltaId,
                [Hex(e.ItemHash)], _head.StatusOf(e.LeafIndex), true);
        }
        var record = placed.Record!;
        var original = record.Deltas.First(d => d.Seq == placed.Seq);
        var idempotent = !ReferenceEquals(original, placed);
        return new PlacedView(RecordIds.Format(record.Id), Hex(record.Receipt), original.ItemHash, original.DeltaId,
            record.Deltas.Select(d => Hex(d.ItemHash)).ToList(), "QUEUED", idempotent);
    }

    private static string Hex(byte[] bytes) => "0x" + Convert.ToHexStringLower(bytes);

    private void PurgeIdempotencyKeysIfDue()
    {
        if (_writer is null || _time.GetElapsedTime(_lastPurgeTimestamp) < TimeSpan.FromMinutes(1))
        {
            return;
        }
        _lastPurgeTimestamp = _time.GetTimestamp();
        try
        {
            var cutoff = _time.GetUtcNow().Add(-_idempotencyRetention).ToUnixTimeMilliseconds();
            using var command = _writer.CreateCommand();
            command.CommandText = "DELETE FROM idempotency_keys WHERE (plane_id, key) IN " +
                "(SELECT plane_id, key FROM idempotency_keys WHERE created_at < $cutoff LIMIT 10000)";
            command.Parameters.AddWithValue("$cutoff", cutoff);
            command.ExecuteNonQuery();
        }
        catch (SqliteException e)
        {
            _logger.LogWarning(e, "idempotency key purge failed; it will be retried");
        }
    }
}
