using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tallystick.Server.Storage;

/// <summary>
/// Copies committed WAL pages into the database file in the background (PASSIVE: never blocks the sequencer),
/// so the WAL stays small without the sequencer paying for checkpoints on its commit path.
/// </summary>
internal sealed class WalCheckpointer(Database database, ILogger<WalCheckpointer> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                command.ExecuteNonQuery();
            }
            catch (SqliteException e)
            {
                logger.LogWarning(e, "background WAL checkpoint failed; will retry");
            }
        }
    }
}
