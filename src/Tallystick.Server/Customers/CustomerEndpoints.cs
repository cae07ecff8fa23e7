using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tallystick.Server.Balances;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Wire;

namespace Tallystick.Server.Customers;

/// <summary>Customer records: the list and one customer's detail with recent activity.</summary>
internal static class CustomerEndpoints
{
    public static void MapCustomers(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/balance/customers", List).WithName("ListCustomers")
            .Produces<Envelope<CustomerList>>().Produces<ErrorEnvelope>(400);
        app.MapGet("/api/v1/balance/customers/{customerId}", Get).WithName("GetCustomer")
            .Produces<Envelope<CustomerDetail>>().Produces<ErrorEnvelope>(404);
    }

    private static async Task List(HttpContext context, Sequencer sequencer, Database database)
    {
        var plane = Http.Plane(context);
        var (page, badPage) = Http.QueryNumber(context, "page", 1, 1, int.MaxValue);
        var (limit, badLimit) = Http.QueryNumber(context, "limit", 25, 1, Limits.CustomerPageMax);
        if ((badPage ?? badLimit) is { } bad)
        {
            await Responses.WriteError(context, bad);
            return;
        }
        var search = context.Request.Query["search"].ToString();
        var head = sequencer.Head;
        using var connection = database.Open();
        var filter = "plane_id = $p" + (search.Length > 0 ? " AND instr(lower(customer_id), lower($s)) > 0" : "");
        using var count = connection.CreateCommand();
        count.CommandText = $"SELECT count(*) FROM customers WHERE {filter}";
        count.Parameters.AddWithValue("$p", plane.Id);
        count.Parameters.AddWithValue("$s", search);
        var total = (long)count.ExecuteScalar()!;
        using var select = connection.CreateCommand();
        select.CommandText = $"SELECT id, customer_id, reference, first_at FROM customers WHERE {filter} " +
            "ORDER BY customer_id LIMIT $limit OFFSET $offset";
        select.Parameters.AddWithValue("$p", plane.Id);
        select.Parameters.AddWithValue("$s", search);
        select.Parameters.AddWithValue("$limit", limit);
        select.Parameters.AddWithValue("$offset", (page - 1) * limit);
        var found = new List<(long Key, string Id, byte[] Reference, long FirstAt)>();
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                found.Add((reader.GetInt64(0), reader.GetString(1), (byte[])reader[2], reader.GetInt64(3)));
            }
        }
        var customers = found.Select(c =>
        {
            var totals = CustomerTotals.ReadTotals(connection, c.Key, c.Id, c.Reference, c.FirstAt, head.CheckpointSize);
            return new CustomerSummary
            {
                CustomerId = c.Id,
                CustomerReference = CustomerReference.Format(c.Reference),
                TotalDeltas = totals.AcceptedCount,
                ComputedBalance = totals.VerifiedBalance,
                FirstDeltaAt = Timestamps.Format(totals.FirstAtUnixMs),
                LastDeltaAt = Timestamps.Format(totals.LastAtUnixMs),
            };
        }).ToList();
        var result = new CustomerList
        {
            Customers = customers,
            Pagination = new PagePagination
            {
                Total = total, Page = (int)page, Limit = (int)limit, TotalPages = (total + limit - 1) / limit,
            },
        };
        await Responses.Write(context, 200, result, WireJson.Default.EnvelopeCustomerList);
    }

    private static async Task Get(HttpContext context, string customerId, Sequencer sequencer, Database database)
    {
        var plane = Http.Plane(context);
        var (page, badPage) = Http.QueryNumber(context, "deltaPage", 1, 1, int.MaxValue);
        var (limit, badLimit) = Http.QueryNumber(context, "deltaLimit", 20, 1, Limits.ActivityPageMax);
        if ((badPage ?? badLimit) is { } bad)
        {
            await Responses.WriteError(context, bad);
            return;
        }
        var head = sequencer.Head;
        using var connection = database.Open();
        using var snapshot = connection.BeginTransaction(deferred: true); // one snapshot, one set of locks (as derive)
        var totals = CustomerTotals.Read(connection, plane.Id, customerId, head.CheckpointSize);
        if (totals is null)
        {
            await Responses.WriteError(context, BalanceEndpoints.CustomerNotFound(customerId));
            return;
        }
        // Most recent first: page p covers sequence numbers (total - p·limit, total - (p-1)·limit].
        var to = totals.AcceptedCount - ((page - 1) * limit);
        var items = DeltaRows.ReadCustomerRange(connection, totals.CustomerKey, Math.Max(0, to - limit), to,
            newestFirst: true, head);
        var result = new CustomerDetail
        {
            CustomerId = customerId,
            CustomerReference = CustomerReference.Format(totals.Reference),
            TotalDeltas = totals.AcceptedCount,
            VerifiedDeltas = totals.VerifiedCount,
            ComputedBalance = totals.VerifiedBalance,
            PendingCount = totals.AcceptedCount - totals.VerifiedCount,
            PendingAmount = totals.AcceptedBalance - totals.VerifiedBalance,
            LatestReceiptId = totals.LatestVerifiedReceipt is { } r ? DeltaRows.Hex(r) : null,
            FirstDeltaAt = Timestamps.Format(totals.FirstAtUnixMs),
            LastDeltaAt = Timestamps.Format(totals.LastAtUnixMs),
            RecentActivity = new CustomerActivity
            {
                Items = items,
                Pagination = new PagePagination
                {
                    Total = totals.AcceptedCount, Page = (int)page, Limit = (int)limit,
                    TotalPages = (totals.AcceptedCount + limit - 1) / limit,
                },
            },
        };
        await Responses.Write(context, 200, result, WireJson.Default.EnvelopeCustomerDetail);
    }
}
