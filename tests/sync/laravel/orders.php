<?php
// The portal's side as a Laravel app writes it, with Debian's php-illuminate-database:
// the migration (Schema builder) and Eloquent saves, nothing hand-written.
//   php orders.php DB create                 the orders table, one order per Odoo id 1..N
//   php orders.php DB set NUMBER STATUS      a customer's $order->status = ...; $order->save()
require '/usr/share/php/Illuminate/Database/autoload.php';

use Illuminate\Database\Capsule\Manager as Capsule;
use Illuminate\Database\Eloquent\Model;

$capsule = new Capsule;
$capsule->addConnection(['driver' => 'sqlite', 'database' => $argv[1]]);
$capsule->setAsGlobal();
$capsule->bootEloquent();

class Order extends Model
{
    protected $table = 'orders';
    protected $guarded = [];
}

if ($argv[2] === 'create') {
    Capsule::schema()->create('orders', function ($table) {
        $table->id();
        $table->string('order_number');
        $table->decimal('total_amount', 10, 2)->nullable();
        $table->unsignedBigInteger('odoo_order_id')->nullable();
        $table->enum('status', ['pending', 'confirmed', 'cancelled'])->default('pending');
        $table->timestamps();
    });
    for ($i = 1; $i <= (int) $argv[3]; $i++) {
        Order::create(['order_number' => "SO-$i", 'total_amount' => '10.00', 'odoo_order_id' => $i]);
    }
} else {
    $order = Order::where('order_number', $argv[3])->firstOrFail();
    $order->status = $argv[4];
    $order->save();
}
