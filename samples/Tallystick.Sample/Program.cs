// dotnet run --project samples/Tallystick.Sample -- --api-key pk_test_… [--url http://127.0.0.1:8080]
//     [--customer ID] [--log-key VKEY] [--checkpoint-file FILE]
return await Tallystick.Sample.SampleProgram.RunAsync(args, Console.Out);
