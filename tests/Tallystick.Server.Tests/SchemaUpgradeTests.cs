using Microsoft.Data.Sqlite;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Tests;

// Goal: a database made by an earlier build of schema version 1 (fewer tables and indexes) gets the missing ones
// when the server opens it, and opening a current database changes nothing.
// Method: drop tables and indexes added later from a fresh database, reopen it, compare sqlite_master.
public sealed class SchemaUpgradeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tally-schema-" + Guid.NewGuid().ToString("N"));

    private static List<string> Objects(Database database)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

    [Fact]
    public void Reopen_OlderVersion1Database_GainsMissingTablesAndIndexes()
    {
        var expected = Objects(new Database(_dir));
        Assert.Contains("table webhook_events", expected);
        Assert.Contains("index records_by_receipt_epoch", expected);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "tallystick.db")}"))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE webhook_events; DROP TABLE period_checkpoints; " +
                "DROP INDEX records_by_receipt_epoch;";
            drop.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        var upgraded = Objects(new Database(_dir));
        var again = Objects(new Database(_dir));

        Assert.Equal(expected, upgraded);
        Assert.Equal(expected, again);
    }

    [Fact]
    public void Reopen_DatabaseWithRetiredIndexes_DropsThem()
    {
        var expected = Objects(new Database(_dir));
        Assert.DoesNotContain("index records_by_time", expected);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "tallystick.db")}"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = "CREATE INDEX records_by_time ON records (customer, accepted_at); " +
                "CREATE INDEX records_by_receipt ON records (substr(receipt, 1, 8));";
            create.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        var upgraded = Objects(new Database(_dir));

        Assert.Equal(expected, upgraded);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
