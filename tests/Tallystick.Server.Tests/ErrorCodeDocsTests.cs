namespace Tallystick.Server.Tests;

// Goal: every error code the API can answer with is documented (docs/api.md's error table), so clients never meet
// an unexplained code. Method: read the one code → HTTP map and look for each code in backticks in the document.
public sealed class ErrorCodeDocsTests
{
    [Fact]
    public void EveryErrorCode_IsInApiDocs()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "docs", "api.md")))
        {
            directory = directory.Parent;
        }
        Assert.NotNull(directory);
        var docs = File.ReadAllText(Path.Combine(directory.FullName, "docs", "api.md"));
        var missing = ErrorCodes.HttpStatus.Keys.Where(code => !docs.Contains($"`{code}`", StringComparison.Ordinal));
        Assert.Empty(missing);
    }
}
