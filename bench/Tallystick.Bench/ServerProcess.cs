using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Tallystick.Bench;

/// <summary>
/// A server under test, run as a child process of the bench (this same executable with <c>--serve-tally</c> or
/// <c>--serve-bare</c>), so that its RSS and per-thread CPU can be read from /proc apart from the load generator.
/// It stops gracefully when told "stop" on stdin (or when the bench dies and stdin closes).
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>The key the bench creates in every tally data directory (tenant "bench", test plane).</summary>
    public const string ApiKey = "pk_test_benchbench0001.benchsecretbenchsecret01";

    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _recent = [];
    private bool _stopped;

    private ServerProcess(string name, Uri baseUri, Process process, string? dataDirectory)
    {
        Name = name;
        BaseUri = baseUri;
        _process = process;
        DataDirectory = dataDirectory;
    }

    public string Name { get; }

    public Uri BaseUri { get; }

    public string? DataDirectory { get; }

    public int Pid => _process.Id;

    /// <summary>Warning and error lines the server logged.</summary>
    public int LoggedProblems { get; private set; }

    /// <summary>Starts the Tallystick server on a free loopback port over a fresh data directory. The webhooks phase
    /// lets it deliver to loopback receivers (<c>TALLY_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true</c>).</summary>
    public static Task<ServerProcess> StartTallyAsync(string dataDirectory, bool webhooksAllowPrivateTargets = false) =>
        StartAsync("tally", "--serve-tally", dataDirectory, webhooksAllowPrivateTargets);

    /// <summary>Starts the bare ASP.NET Core reference endpoint on a free loopback port.</summary>
    public static Task<ServerProcess> StartBareAsync() => StartAsync("bare", "--serve-bare", null);

    /// <summary>A fresh, empty data directory under the temp directory.</summary>
    public static string NewDataDirectory(string phase)
    {
        var path = Path.Combine(Path.GetTempPath(), $"tally-bench-{phase}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static void DeleteDataDirectory(string? path)
    {
        if (path is null || !Directory.Exists(path))
        {
            return;
        }
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException e)
        {
            Console.WriteLine($"  (could not delete {path}: {e.Message})");
        }
    }

    private static async Task<ServerProcess> StartAsync(string name, string mode, string? dataDirectory,
        bool webhooksAllowPrivateTargets = false)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (string.Equals(Path.GetFileNameWithoutExtension(path), "dotnet", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
        }
        start.ArgumentList.Add(mode);
        start.ArgumentList.Add(url.ToString().TrimEnd('/'));
        if (dataDirectory is not null)
        {
            start.ArgumentList.Add(dataDirectory);
        }
        if (webhooksAllowPrivateTargets)
        {
            start.ArgumentList.Add(ChildHost.AllowPrivateWebhookTargets);
        }
        var process = new Process { StartInfo = start };
        var server = new ServerProcess(name, url, process, dataDirectory);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(server._ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != server._ready.Task)
        {
            string recent;
            lock (server._recent)
            {
                recent = string.Join(Environment.NewLine, server._recent);
            }
            await server.DisposeAsync();
            throw new InvalidOperationException($"{name} server did not start:{Environment.NewLine}{recent}");
        }
        return server;
    }

    /// <summary>Asks the server to stop (it drains, checkpoints and closes its store) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        try
        {
            await _process.StandardInput.WriteLineAsync("stop");
            await _process.StandardInput.FlushAsync();
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Already gone.
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine($"  ({Name} server did not stop within 90 s; killed)");
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await StopAsync();
        }
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        if (string.Equals(line, "READY", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
            return;
        }
        lock (_recent)
        {
            _recent.Add(line);
            if (_recent.Count > 40)
            {
                _recent.RemoveAt(0);
            }
        }
        if (line.StartsWith("info: Microsoft.Hosting.Lifetime", StringComparison.Ordinal) ||
            line.StartsWith("info:", StringComparison.Ordinal) && !_ready.Task.IsCompleted)
        {
            return;
        }
        if (line.StartsWith("warn:", StringComparison.Ordinal) || line.StartsWith("fail:", StringComparison.Ordinal) ||
            line.StartsWith("crit:", StringComparison.Ordinal))
        {
            LoggedProblems++;
            if (LoggedProblems > 20)
            {
                return;
            }
        }
        Console.WriteLine($"    [{Name} server] {line}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
