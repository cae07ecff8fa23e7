using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Wire;

namespace Tallystick.Server.Balances;

/// <summary>Derive: the balance of a customer, computed from the verified record.</summary>
internal static class BalanceEndpoints
{
    /// <summary>Scope parameters of PacSpace's newer derive; refused until scoped derive exists, never ignored.</summary>
    private static readonly string[] ScopeParameters =
        ["period", "timePreset", "startDate", "endDate", "startingBalance", "startingCheckpoint",
         "startingCheckpointType", "granularity"];

    public static void MapBalances(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/balance/derive/{customerId}", Derive).WithName("DeriveBalance")
            .Produces<Envelope<DeriveResult>>().Produces<ErrorEnvelope>(404).Produces<ErrorEnvelope>(400);
    }

    private static async Task Derive(HttpContext context, string customerId, Sequencer sequencer, Database database)
    {
        var plane = Http.Plane(context);
        if (ScopeParameters.FirstOrDefault(p => context.Request.Query.ContainsKey(p)) is { } scope)
        {
            await Responses.WriteError(context, new ApiError("UNSUPPORTED_SCOPE",
                $"'{scope}' is not supported yet: derive answers the all-time verified balance only", scope));
            return;
        }
        var (limit, badLimit) = Http.QueryNumber(context, "limit", Limits.DeriveRowsDefault, 1, Limits.DeriveRowsMax);
        var (offset, badOffset) = Http.QueryNumber(context, "offset", 0, 0, long.MaxValue);
        if ((badLimit ?? badOffset) is { } bad)
        {
            await Responses.WriteError(context, bad);
            return;
        }
        var head = sequencer.Head;
        using var connection = database.Open();
        var totals = CustomerTotals.Read(connection, plane.Id, customerId, head.CheckpointSize);
        if (totals is null)
        {
            await Responses.WriteError(context, CustomerNotFound(customerId));
            return;
        }
        // Sequence numbers are contiguous from 0, so an offset is a sequence number: no OFFSET scan.
        using var rows = connection.CreateCommand();
        rows.CommandText = DeltaRows.CustomerRange + " ORDER BY d.seq";
        rows.Parameters.AddWithValue("$k", totals.CustomerKey);
        rows.Parameters.AddWithValue("$from", offset);
        rows.Parameters.AddWithValue("$to", Math.Min(totals.VerifiedCount, offset + limit));
        var deltas = DeltaRows.Read(rows, head);
        var result = new DeriveResult
        {
            CustomerId = customerId,
            CustomerReference = Deltas.CustomerReference.Format(totals.Reference),
            ComputedBalance = totals.VerifiedBalance,
            Balance = totals.VerifiedBalance,
            DeltasCount = totals.VerifiedCount,
            DeltaCount = totals.VerifiedCount,
            LastVerifiedIndex = totals.LastVerifiedIndex,
            LastVerifiedSequenceNumber = totals.VerifiedCount > 0 ? totals.VerifiedCount - 1 : null,
            LatestReceiptId = totals.LatestVerifiedReceipt is { } r ? DeltaRows.Hex(r) : null,
            PendingCount = totals.AcceptedCount - totals.VerifiedCount,
            PendingAmount = totals.AcceptedBalance - totals.VerifiedBalance,
            Window = new BalanceWindow { Scope = "all_time" },
            Checkpoint = DeltaRows.Current(head),
            Deltas = deltas,
            Pagination = new OffsetPagination { Limit = (int)limit, Offset = offset, Total = totals.VerifiedCount },
        };
        await Responses.Write(context, 200, result, WireJson.Default.EnvelopeDeriveResult);
    }

    public static ApiError CustomerNotFound(string customerId) =>
        new("CUSTOMER_NOT_FOUND", $"no customer '{customerId}' in this environment (customers appear with their first delta)",
            "customerId");
}
