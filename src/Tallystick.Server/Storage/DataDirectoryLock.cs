namespace Tallystick.Server.Storage;

/// <summary>
/// An exclusive lock on the data directory, held for the life of the server: two servers sequencing the same
/// database would hand out the same sequence numbers, so the second one refuses to start.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file) => _file = file;

    public static DataDirectoryLock Acquire(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, "LOCK");
        try
        {
            return new DataDirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"{dataDirectory} is in use by another Tallystick server ({e.Message})", e);
        }
    }

    public void Dispose() => _file.Dispose();
}
