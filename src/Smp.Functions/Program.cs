using Microsoft.Extensions.Hosting;
using Smp.Functions.Hosting;

SmpHost.CreateBuilder(args).Build().Run();
