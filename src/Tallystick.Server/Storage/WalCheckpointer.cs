using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tallystick.Server.Storage;

/// <summary>
/// Copies committed WAL pages into the database file in the background (PASSIVE: never blocks the sequencer),
/// so the sequencer does not pay for checkpoints on its commit path. Under sustained writes a PASSIVE checkpoint
/// never catches up with the end of the WAL, and SQLite only rewinds a WAL that is fully copied, so the file would
/// grow without bound (12 GB after 2M deltas, measured). Once it passes <see cref="WalBytesMax"/>, a TRUNCATE
/// checkpoint copies the last frames (briefly holding off the writer: the earlier PASSIVE runs copied the rest)
/// and empties the file.
/// </summary>
internal sealed class WalCheckpointer(Database database, ILogger<WalCheckpointer> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>WAL size beyond which the next checkpoint truncates it.</summary>
    public const long WalBytesMax = 64L << 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        using var connection = database.Open();
        using var passive = connection.CreateCommand();
        passive.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        using var truncate = connection.CreateCommand();
        truncate.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        var wal = new FileInfo(database.FilePath + "-wal");
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                passive.ExecuteNonQuery();
                wal.Refresh();
                if (wal.Exists && wal.Length > WalBytesMax)
                {
                    truncate.ExecuteNonQuery();
                }
            }
            catch (SqliteException e)
            {
                logger.LogWarning(e, "background WAL checkpoint failed; will retry");
            }
        }
    }
}
